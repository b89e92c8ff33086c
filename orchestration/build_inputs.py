"""What a dbt build reads, as one fingerprint: a run with nothing new skips dbt and publish.

The published marts are a function of the raw tables dbt reads (its sources),
the seeds (the organisation's CSVs, KPI targets included), the dbt project
(models, macros, tests, its YAML), the settings dbt runs with (warehouse,
anonymity threshold, salt) and the as-of date. The publish step records the
fingerprint of the build it published (`audit.published_inputs`); the dbt
step compares the run's own fingerprint with it and, when nothing differs,
builds nothing: the published marts are what this build would give.

The raw part is a content hash of every row except where it was last read from
(`_run_id`, `_source_url`: a re-landed, unchanged row joins the run's batch and
may come from another page URL, but no model reads either), so a changed,
inserted, flagged-deleted or removed row changes it. Each part keeps
its own digest, so a rebuild can say what changed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingestion.config import Settings
from orchestration.dbt_setup import AS_OF_VARIABLE, DBT_PROJECT_DIR, as_of_date, dbt_env
from orchestration.gates.ledger import AUDIT_SCHEMA

DBT_FOLDERS = ("models", "macros", "tests", "seeds", "snapshots", "analyses")
DBT_FILES = ("dbt_project.yml", "profiles.yml", "packages.yml", "dependency.yml")
# Per process, not per build: the child's pid changes every run and dbt reads no data from it.
IGNORED_ENV = frozenset({"PRODUCTOPS_DBT_PARENT_PID"})
# Where a row was last read from, not what it says; no dbt model reads these.
PROVENANCE_COLUMNS = ("_run_id", "_source_url")

DDL = (
    f"create schema if not exists {AUDIT_SCHEMA}",
    f"""
    create table if not exists {AUDIT_SCHEMA}.build_inputs (
        run_id varchar primary key,
        fingerprint varchar not null,   -- sha256 over every part below
        parts json not null,            -- {{part: sha256}}: raw tables, seeds, project, settings
        computed_at timestamptz not null default now()
    )""",
    # One row: the inputs of the build readers see now.
    f"""
    create table if not exists {AUDIT_SCHEMA}.published_inputs (
        run_id varchar not null,
        fingerprint varchar not null,
        parts json not null,
        published_at timestamptz not null default now()
    )""",
)


@dataclass(frozen=True)
class BuildInputs:
    parts: dict[str, str]

    @property
    def fingerprint(self) -> str:
        return _sha(json.dumps(self.parts, sort_keys=True))

    def changed_since(self, other: BuildInputs) -> list[str]:
        """The parts that differ, by name (a part present on one side only counts)."""
        names = sorted(set(self.parts) | set(other.parts))
        return [name for name in names if self.parts.get(name) != other.parts.get(name)]


@dataclass(frozen=True)
class PublishedBuild:
    run_id: str
    inputs: BuildInputs
    published_at: str


# A run tagged so (`productops run --rebuild`) builds even when nothing is new.
REBUILD_TAG = "productops/rebuild"


def _sha(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


def _files_digest(paths: list[Path], root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _folder_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")]


def dbt_sources(manifest_path: Path) -> list[tuple[str, str]]:
    """(schema, table) of every dbt source: the raw tables a build reads."""
    manifest = json.loads(manifest_path.read_text())
    return sorted({(s["schema"], s["identifier"]) for s in manifest["sources"].values()})


def raw_digest(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> str:
    """Rows and a content hash of a raw table, provenance left out; order does not matter."""
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchall()[0][0]
    if not exists:
        return "absent"
    columns = [
        name
        for (name,) in con.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
            "order by ordinal_position",
            [schema, table],
        ).fetchall()
    ]
    left_out = [name for name in PROVENANCE_COLUMNS if name in columns]
    exclude = f" exclude ({', '.join(left_out)})" if left_out else ""
    # A sum, not a xor: two equal rows must not cancel out.
    rows, total = con.execute(
        f"select count(*), coalesce(sum(hash(r)::hugeint), 0) "
        f'from (select *{exclude} from "{schema}"."{table}") as r'
    ).fetchall()[0]
    return f"{rows}:{total}"


def compute(con: duckdb.DuckDBPyConnection, settings: Settings, manifest_path: Path) -> BuildInputs:
    """The inputs of a dbt build with these settings on this warehouse, part by part."""
    sources = dbt_sources(manifest_path)
    parts = {f"raw {schema}.{table}": raw_digest(con, schema, table) for schema, table in sources}
    parts["seeds"] = _files_digest(
        [p for p in _folder_files(settings.seeds_dir) if p.suffix == ".csv"], settings.seeds_dir
    )
    project_files = [p for folder in DBT_FOLDERS for p in _folder_files(DBT_PROJECT_DIR / folder)]
    project_files += [DBT_PROJECT_DIR / name for name in DBT_FILES if (DBT_PROJECT_DIR / name).is_file()]
    parts["dbt project"] = _files_digest(project_files, DBT_PROJECT_DIR)
    env = {k: v for k, v in dbt_env(settings).items() if k not in IGNORED_ENV}
    env[AS_OF_VARIABLE] = as_of_date(settings)
    parts["as-of date"] = _sha(env.pop(AS_OF_VARIABLE))
    # Only digests are kept: the salt never reaches the warehouse.
    parts["settings"] = _sha(json.dumps(env, sort_keys=True))
    # Another engine (or another server) holds other published marts: build there too.
    parts["engine"] = _sha(settings.engine.where)
    config = settings.config_file
    parts["config file"] = _sha(config.read_bytes()) if config and Path(config).is_file() else "none"
    return BuildInputs(parts)


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for statement in DDL:
        con.execute(statement)


def record_build(con: duckdb.DuckDBPyConnection, run_id: str, inputs: BuildInputs) -> None:
    """What this run's dbt build read; publish promotes it once the marts reach readers."""
    ensure_tables(con)
    con.execute(
        f"insert or replace into {AUDIT_SCHEMA}.build_inputs (run_id, fingerprint, parts) values (?, ?, ?)",
        [run_id, inputs.fingerprint, json.dumps(inputs.parts, sort_keys=True)],
    )
    # Only the newest few builds matter; the table stays small.
    con.execute(
        f"delete from {AUDIT_SCHEMA}.build_inputs where run_id not in "
        f"(select run_id from {AUDIT_SCHEMA}.build_inputs order by computed_at desc limit 20)"
    )


def record_publish(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """The published marts now come from this run's build (or from no known build, if it has none)."""
    ensure_tables(con)
    con.execute("begin")
    con.execute(f"delete from {AUDIT_SCHEMA}.published_inputs")
    con.execute(
        f"insert into {AUDIT_SCHEMA}.published_inputs (run_id, fingerprint, parts) "
        f"select run_id, fingerprint, parts from {AUDIT_SCHEMA}.build_inputs where run_id = ?",
        [run_id],
    )
    con.execute("commit")


def last_published(con: duckdb.DuckDBPyConnection) -> PublishedBuild | None:
    ensure_tables(con)
    rows = con.execute(
        f"select run_id, parts, strftime(published_at at time zone 'UTC', '%Y-%m-%d %H:%M UTC') "
        f"from {AUDIT_SCHEMA}.published_inputs"
    ).fetchall()
    if not rows:
        return None
    run_id, parts, published_at = rows[0]
    return PublishedBuild(run_id, BuildInputs(json.loads(parts)), published_at)


def nothing_new_reason(
    con: duckdb.DuckDBPyConnection, inputs: BuildInputs, settings: Settings
) -> tuple[str | None, list[str]]:
    """(why this build can be skipped, None if it cannot; the parts that changed)."""
    from orchestration.published import PublishedSource, is_published

    previous = last_published(con)
    if previous is None:
        return None, ["no published build on record"]
    published = PublishedSource.of(settings)
    # A file is cheap to look for; a server has to be asked.
    if not (published.path.exists() if published.postgres_url is None else is_published(published)):
        return None, [f"the published marts ({published.where}) are missing"]
    changed = inputs.changed_since(previous.inputs)
    if changed:
        return None, changed
    reason = (
        f"no raw row, seed, dbt model, setting or as-of date changed since run {previous.run_id[:8]} "
        f"published at {previous.published_at}"
    )
    return reason, []
