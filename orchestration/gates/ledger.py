"""Write–audit–publish bookkeeping: which landed batches passed their gates.

Raw tables take every run's rows as they land (the loader merges them page by
page, with the cursor). What this ledger adds is the *audit* state:

- a run's rows of a source are **validated** once every gate of that source
  passed in that run (`audit.batches`, status `passed`);
- the gates of a run read every row of the source that is not validated yet:
  the rows it landed, plus any a failed or crashed run left behind (which are
  then marked `revalidated` when they pass);
- when a gate fails, the source is **rewound**: its cursors go back to where
  the last validated run left them (`audit.cursors`) and the files the run
  landed are marked changed (`raw.loaded_files`), so the next run extracts
  the same records again and gates them again. A bad batch can only reach the
  marts by passing the gates of a later run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import duckdb

from ingestion.loader import RawLoader, ensure_raw_schema
from ingestion.raw_tables import RAW_SCHEMA

# The ledger lives beside raw, not in it: raw holds what sources delivered,
# and only the loader writes it (the rewind below goes through RawLoader).
AUDIT_SCHEMA = "audit"
VALIDATED = ("passed", "revalidated")

DDL = (
    f"create schema if not exists {AUDIT_SCHEMA}",
    f"""
    create table if not exists {AUDIT_SCHEMA}.batches (
        source varchar not null,
        run_id varchar not null,
        status varchar not null,        -- passed | failed | revalidated
        checked_at timestamptz not null,
        validated_by varchar,           -- the run whose gates passed these rows
        failed_checks varchar,          -- the gates that failed, comma-separated
        primary key (source, run_id)
    )""",
    f"""
    create table if not exists {AUDIT_SCHEMA}.volumes (
        source varchar not null,
        table_name varchar not null,    -- the raw table
        run_id varchar not null,
        batch_rows bigint not null,     -- rows this run landed in the table
        table_rows bigint not null,     -- live rows in the table after the load
        primary key (table_name, run_id)
    )""",
    f"""
    create table if not exists {AUDIT_SCHEMA}.cursors (
        source varchar not null,
        stream varchar not null,
        cursor_value varchar,
        run_id varchar not null,        -- the validated run that left this cursor
        primary key (source, stream)
    )""",
)


@dataclass(frozen=True)
class PreviousLoad:
    run_id: str
    rows: int  # live rows the table held after that load


@dataclass(frozen=True)
class Volume:
    batch_rows: int  # rows this run landed
    table_rows: int  # live rows the table holds after this run's load


def ensure_ledger(con: duckdb.DuckDBPyConnection) -> None:
    ensure_raw_schema(con)
    for statement in DDL:
        con.execute(statement)


def unvalidated_rows(raw_table: str, source: str) -> str:
    """SQL for the rows of a raw table its source's gates have not passed yet."""
    return (
        f"(select * from {RAW_SCHEMA}.{raw_table} where _run_id not in ("
        f"select run_id from {AUDIT_SCHEMA}.batches "
        f"where source = '{_literal(source)}' and status in {VALIDATED}))"
    )


def previous_load(con: duckdb.DuckDBPyConnection, raw_table: str) -> PreviousLoad | None:
    """The table as the latest validated load left it."""
    rows = con.execute(
        f"""
        select volumes.run_id, volumes.table_rows
        from {AUDIT_SCHEMA}.volumes as volumes
        inner join {AUDIT_SCHEMA}.batches as batches
            on volumes.source = batches.source and volumes.run_id = batches.run_id
        where volumes.table_name = ? and batches.status = 'passed'
        order by batches.checked_at desc
        limit 1
        """,
        [raw_table],
    ).fetchall()
    return PreviousLoad(rows[0][0], rows[0][1]) if rows else None


def record_pass(
    con: duckdb.DuckDBPyConnection,
    source: str,
    run_id: str,
    volumes: Mapping[str, Volume],
    revalidated: Iterable[str],
) -> None:
    """The source's batch of this run passed: validate it and the leftovers it
    re-checked, and remember its cursors as the point to rewind to."""
    loader = RawLoader(con, run_id)
    with loader.transaction():
        _record(con, source, run_id, "passed", volumes, failed_checks=None)
        for earlier in sorted(set(revalidated) - {run_id}):
            con.execute(
                f"""
                insert or replace into {AUDIT_SCHEMA}.batches
                values (?, ?, 'revalidated', now(), ?, null)
                """,
                [source, earlier, run_id],
            )
        con.execute(f"delete from {AUDIT_SCHEMA}.cursors where source = ?", [source])
        for stream, value in loader.cursors(source).items():
            con.execute(
                f"insert into {AUDIT_SCHEMA}.cursors values (?, ?, ?, ?)", [source, stream, value, run_id]
            )


def record_failure(
    con: duckdb.DuckDBPyConnection,
    source: str,
    run_id: str,
    volumes: Mapping[str, Volume],
    failed_checks: Iterable[str],
) -> None:
    """The source's batch failed a gate: record it and rewind the source so the
    next run extracts the same records again."""
    loader = RawLoader(con, run_id)
    with loader.transaction():
        _record(con, source, run_id, "failed", volumes, failed_checks=", ".join(failed_checks))
        saved = con.execute(
            f"select stream, cursor_value, run_id from {AUDIT_SCHEMA}.cursors where source = ?", [source]
        ).fetchall()
        loader.rewind(source, {stream: (value, by) for stream, value, by in saved}, failed_run=run_id)


def _record(
    con: duckdb.DuckDBPyConnection,
    source: str,
    run_id: str,
    status: str,
    volumes: Mapping[str, Volume],
    failed_checks: str | None,
) -> None:
    con.execute(
        f"insert or replace into {AUDIT_SCHEMA}.batches values (?, ?, ?, now(), ?, ?)",
        [source, run_id, status, run_id if status == "passed" else None, failed_checks],
    )
    for table, volume in volumes.items():
        con.execute(
            f"insert or replace into {AUDIT_SCHEMA}.volumes values (?, ?, ?, ?, ?)",
            [source, table, run_id, volume.batch_rows, volume.table_rows],
        )


def unvalidated_counts(con: duckdb.DuckDBPyConnection, sources: Mapping[str, str]) -> dict[str, int]:
    """Rows no gate has passed yet, per raw table ({raw table: source}); empty when none."""
    ensure_ledger(con)
    counts = {}
    for raw_table, source in sources.items():
        (rows,) = con.execute(f"select count(*) from {unvalidated_rows(raw_table, source)}").fetchall()[0]
        if rows:
            counts[raw_table] = rows
    return counts


def batch_status(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, str]:
    """Each source's gate outcome in one run (sources without gates absent)."""
    ensure_ledger(con)
    rows = con.execute(
        f"select source, status from {AUDIT_SCHEMA}.batches where run_id = ?", [run_id]
    ).fetchall()
    return dict(rows)


def _literal(text: str) -> str:
    return text.replace("'", "''")
