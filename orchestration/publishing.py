"""Publish the marts where readers look, atomically.

Readers (BI tools, analysts' CLIs, notebooks) open a published copy, never
the file the pipeline writes: they can hold it open for as long as they like
without blocking a run, and a run replaces it in one rename, so they see the
previous complete state or the new one, never a half-built one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

MARTS_SCHEMA = "marts"


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


def publish_marts(con: duckdb.DuckDBPyConnection, target: Path) -> Published:
    """Copy every mart into a fresh DuckDB file and Parquet files, then swap them in."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging_db = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    staging_db.unlink(missing_ok=True)
    tables = mart_tables(con)
    rows: dict[str, int] = {}
    con.execute(f"attach '{staging_db}' as publish_target")
    try:
        con.execute(f"create schema publish_target.{MARTS_SCHEMA}")
        for table in tables:
            con.execute(
                f"create table publish_target.{MARTS_SCHEMA}.{table} as select * from {MARTS_SCHEMA}.{table}"
            )
            rows[table] = con.execute(
                f"select count(*) from publish_target.{MARTS_SCHEMA}.{table}"
            ).fetchall()[0][0]
    finally:
        con.execute("detach publish_target")

    parquet: dict[str, Path] = {}
    staged_parquet: list[tuple[Path, Path]] = []
    for table in tables:
        final = target.parent / f"{table}.parquet"
        tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
        con.execute(f"copy {MARTS_SCHEMA}.{table} to '{tmp}' (format parquet, compression zstd)")
        staged_parquet.append((tmp, final))
        parquet[table] = final
    # Every file is complete before the first rename; each rename is atomic.
    os.replace(staging_db, target)
    for tmp, final in staged_parquet:
        os.replace(tmp, final)
    return Published(database=target, parquet=parquet, rows=rows)
