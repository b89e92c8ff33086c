"""Publish the marts where readers look, atomically.

Readers (BI tools, analysts' CLIs, notebooks) open a published copy, never
the file the pipeline writes: they can hold it open for as long as they like
without blocking a run. The pipeline never opens the published file itself,
so a reader's lock never stands in its way.

Every reader must be able to open the copy: it is written in DuckDB's oldest
storage format that DuckDB 2.0 can write (readable by DuckDB 1.0 and later,
so by the DuckDB CLI, DuckDB for Node and the BI drivers built on 1.x), and
it carries the marts' descriptions (dbt's YAML, persisted as comments in the
pipeline's file) as table and column comments, and in each Parquet file's
key-value metadata.

The DuckDB copy and the Parquet exports are one set, swapped as one: each
publish writes the DuckDB file and every mart's Parquet file into a new
hidden folder `.published-<time>-<id>/`, then points the symlink `current`
at it with one rename, the only switch. Every reader's path is a fixed
symlink through it: `productops.duckdb` -> `current/productops.duckdb`,
`parquet` -> `current`, `<mart>.parquet` -> `parquet/<mart>.parquet`. A
rename is atomic, so a reader (or a crash at any moment) sees the old
complete set or the new one, never a new DuckDB file beside old Parquet
files; a reader holding an old file open keeps reading it (POSIX keeps an
open file's contents until it is closed). The previous set stays until the
next publish, for readers still on it.

The first publish onto an older layout (a real `productops.duckdb`, `parquet`
the swapped link) turns those into the fixed links just after the switch;
a crash in that moment leaves one of them on the old set until the next
publish.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

MARTS_SCHEMA = "marts"
TMP_SUFFIX = ".tmp"
# DuckDB 2.0 writes storage format 69 by default, which no DuckDB 1.x opens; this,
# the oldest format 2.0 writes, opens in DuckDB 1.0.0 to 2.0 (0.10 and older cannot).
STORAGE_VERSION = "v1.0.0"
# Parquet key-value metadata: the table's description, and a JSON object of column
# name -> description.
PARQUET_DESCRIPTION_KEY = "productops.description"
PARQUET_COLUMN_DESCRIPTIONS_KEY = "productops.column_descriptions"
# The record of the run that published (its gates and sources), for readers such as the dashboard.
PUBLISHED_RECORD_NAME = "last_run.json"


def published_record_path(published: Path) -> Path:
    return published.parent / PUBLISHED_RECORD_NAME


CURRENT_LINK = "current"
PARQUET_LINK = "parquet"
PUBLISHED_SET_PREFIX = ".published-"
# Sets of the layout before the DuckDB file joined them (swapped through `parquet`).
LEGACY_SET_PREFIX = ".parquet-"


@dataclass(frozen=True)
class Published:
    database: Path
    parquet: dict[str, Path]
    rows: dict[str, int]


def mart_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        """
        select table_name from information_schema.tables
        where table_schema = ? and table_type = 'BASE TABLE'
        order by table_name
        """,
        [MARTS_SCHEMA],
    ).fetchall()
    return [r[0] for r in rows]


@dataclass(frozen=True)
class Descriptions:
    table: str | None
    columns: dict[str, str]


def mart_descriptions(con: duckdb.DuckDBPyConnection, table: str) -> Descriptions:
    """A mart's descriptions as dbt persisted them (persist_docs) in the pipeline's file."""
    scope = [MARTS_SCHEMA, table]
    tables = con.execute(
        "select comment from duckdb_tables() where database_name = current_database()"
        " and schema_name = ? and table_name = ?",
        scope,
    ).fetchall()
    columns = con.execute(
        "select column_name, comment from duckdb_columns() where database_name = current_database()"
        " and schema_name = ? and table_name = ? and comment is not null order by column_index",
        scope,
    ).fetchall()
    return Descriptions(table=tables[0][0] if tables else None, columns=dict(columns))


def sql_string(text: str) -> str:
    """A SQL string literal (COMMENT ON and COPY options take no parameters)."""
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _comment_statements(relation: str, descriptions: Descriptions) -> list[str]:
    statements = []
    if descriptions.table:
        statements.append(f"comment on table {relation} is {sql_string(descriptions.table)}")
    for column, text in descriptions.columns.items():
        statements.append(f"comment on column {relation}.{_ident(column)} is {sql_string(text)}")
    return statements


def _parquet_metadata(descriptions: Descriptions) -> str:
    """The kv_metadata option of COPY ... (format parquet)."""
    entries = {
        PARQUET_DESCRIPTION_KEY: descriptions.table or "",
        PARQUET_COLUMN_DESCRIPTIONS_KEY: json.dumps(descriptions.columns, ensure_ascii=False),
    }
    return "{" + ", ".join(f"{sql_string(k)}: {sql_string(v)}" for k, v in entries.items()) + "}"


def _remove_stale_tmp_files(folder: Path, names: Iterable[str]) -> None:
    """Temporary files a crashed publish left behind (never the published ones)."""
    for name in names:
        for stale in folder.glob(f".{name}.*{TMP_SUFFIX}*"):
            stale.unlink(missing_ok=True)


def publish_marts(con: duckdb.DuckDBPyConnection, target: Path, tables: list[str] | None = None) -> Published:
    """Copy the marts (all of schema marts, or `tables`) into a fresh DuckDB file and
    one Parquet file each, in a new set, then switch readers to it.

    Nothing readers see changes until every new file is complete; a failure
    before that leaves the published files exactly as they were.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tables = sorted(tables) if tables is not None else mart_tables(con)
    parquet = {table: target.parent / f"{table}.parquet" for table in tables}
    # Links half-made by a crashed publish (and files of the older layout's).
    stale = [target.name, CURRENT_LINK, PARQUET_LINK, *(p.name for p in parquet.values())]
    _remove_stale_tmp_files(target.parent, stale)
    descriptions = {table: mart_descriptions(con, table) for table in tables}
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    new_set = target.parent / f"{PUBLISHED_SET_PREFIX}{stamp}-{uuid.uuid4().hex[:8]}"
    new_set.mkdir()
    try:
        rows = _write_database(con, new_set / target.name, descriptions)
        _write_parquet_files(con, new_set, descriptions)
    except BaseException:
        shutil.rmtree(new_set, ignore_errors=True)
        raise
    _switch_to(new_set, target, tables)
    return Published(database=target, parquet=parquet, rows=rows)


def _write_database(con: duckdb.DuckDBPyConnection, path: Path, descriptions: dict) -> dict[str, int]:
    """The marts, with their descriptions as comments, into a new DuckDB file; their row counts."""
    rows: dict[str, int] = {}
    con.execute(f"attach '{path}' as publish_target (storage_version '{STORAGE_VERSION}')")
    try:
        con.execute(f"create schema publish_target.{MARTS_SCHEMA}")
        for table, described in descriptions.items():
            source, copy = f"{MARTS_SCHEMA}.{table}", f"publish_target.{MARTS_SCHEMA}.{table}"
            con.execute(f"create table {copy} as select * from {source}")
            for statement in _comment_statements(copy, described):
                con.execute(statement)
            rows[table] = con.execute(f"select count(*) from {copy}").fetchall()[0][0]
        # Everything into the file itself: a reader must not need a WAL.
        con.execute("checkpoint publish_target")
    finally:
        con.execute("detach publish_target")
    path.with_name(path.name + ".wal").unlink(missing_ok=True)
    return rows


def _write_parquet_files(con: duckdb.DuckDBPyConnection, folder: Path, descriptions: dict) -> None:
    """Every mart (`descriptions` maps each to its descriptions) into `folder`."""
    for table, described in descriptions.items():
        path = folder / f"{table}.parquet"
        metadata = _parquet_metadata(described)
        con.execute(
            f"copy {MARTS_SCHEMA}.{table} to '{path}'"
            f" (format parquet, compression zstd, kv_metadata {metadata})"
        )


def _replace_with_symlink(path: Path, points_to: str) -> None:
    """`path` becomes a symlink to `points_to`, in one rename (atomic for readers)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}{TMP_SUFFIX}")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(points_to)
    os.replace(tmp, path)


def _link_target(path: Path) -> str | None:
    return os.readlink(path) if path.is_symlink() else None


def _switch_to(new_set: Path, target: Path, tables: list[str]) -> None:
    """Point `current` at `new_set` (one rename), make every reader's path a fixed link
    through it where it is not one yet, and drop sets older than the previous one."""
    folder = target.parent
    parquet_link = folder / PARQUET_LINK
    for link in (folder / CURRENT_LINK, parquet_link):
        if link.is_dir() and not link.is_symlink():
            # A copy that followed the symlinks (cp -rL): set the folder aside as an old set.
            link.rename(folder / f"{PUBLISHED_SET_PREFIX}copied-{uuid.uuid4().hex[:8]}")
    # Sets readers may still be on: the one `current` leaves, and on the older layout the one `parquet` did.
    keep = {new_set.name, _link_target(folder / CURRENT_LINK), _link_target(parquet_link)}
    _replace_with_symlink(folder / CURRENT_LINK, new_set.name)  # the switch
    fixed = {
        target: f"{CURRENT_LINK}/{target.name}",
        parquet_link: CURRENT_LINK,
        **{folder / f"{table}.parquet": f"{PARQUET_LINK}/{table}.parquet" for table in tables},
    }
    for path, points_to in fixed.items():
        if _link_target(path) != points_to:
            _replace_with_symlink(path, points_to)  # over a real file too: its readers keep it open
    # Half-written sets of crashed publishes go too.
    for old in [*folder.glob(f"{PUBLISHED_SET_PREFIX}*"), *folder.glob(f"{LEGACY_SET_PREFIX}*")]:
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)
