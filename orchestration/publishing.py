"""Publish the marts where readers look, atomically.

Readers (BI tools, analysts' CLIs, notebooks) open a published copy, never
the file the pipeline writes: they can hold it open for as long as they like
without blocking a run. A run builds the new copy under a temporary name next
to the old one and renames it over it: a rename is atomic and leaves a reader
that holds the old file open on the old file (POSIX keeps an open file's
contents until it is closed), so a reader sees the previous complete state or
the new one, never a half-built one. The pipeline never opens the published
file itself, so a reader's lock never stands in its way.

Every reader must be able to open the copy: it is written in DuckDB's oldest
storage format that DuckDB 2.0 can write (readable by DuckDB 1.0 and later,
so by the DuckDB CLI, DuckDB for Node and the BI drivers built on 1.x), and
it carries the marts' descriptions (dbt's YAML, persisted as comments in the
pipeline's file) as table and column comments, and in each Parquet file's
key-value metadata.
"""

from __future__ import annotations

import json
import os
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


def _tmp(final: Path) -> Path:
    return final.with_name(f".{final.name}.{os.getpid()}{TMP_SUFFIX}")


def _remove_stale_tmp_files(folder: Path, names: Iterable[str]) -> None:
    """Temporary files a crashed publish left behind (never the published ones)."""
    for name in names:
        for stale in folder.glob(f".{name}.*{TMP_SUFFIX}*"):
            stale.unlink(missing_ok=True)


def publish_marts(con: duckdb.DuckDBPyConnection, target: Path, tables: list[str] | None = None) -> Published:
    """Copy the marts (all of schema marts, or `tables`) into a fresh DuckDB file and
    one Parquet file each, then swap them in.

    Nothing at `target` changes until every new file is complete; a failure
    before that leaves the published files exactly as they were.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tables = sorted(tables) if tables is not None else mart_tables(con)
    parquet = {table: target.parent / f"{table}.parquet" for table in tables}
    _remove_stale_tmp_files(target.parent, [target.name, *(p.name for p in parquet.values())])
    staged = [(_tmp(target), target), *((_tmp(p), p) for p in parquet.values())]
    rows: dict[str, int] = {}
    descriptions = {table: mart_descriptions(con, table) for table in tables}
    try:
        staging_db = staged[0][0]
        con.execute(f"attach '{staging_db}' as publish_target (storage_version '{STORAGE_VERSION}')")
        try:
            con.execute(f"create schema publish_target.{MARTS_SCHEMA}")
            for table in tables:
                source, copy = f"{MARTS_SCHEMA}.{table}", f"publish_target.{MARTS_SCHEMA}.{table}"
                con.execute(f"create table {copy} as select * from {source}")
                for statement in _comment_statements(copy, descriptions[table]):
                    con.execute(statement)
                rows[table] = con.execute(f"select count(*) from {copy}").fetchall()[0][0]
            # Everything into the file itself: a reader must not need a WAL.
            con.execute("checkpoint publish_target")
        finally:
            con.execute("detach publish_target")
        for tmp, final in staged[1:]:
            metadata = _parquet_metadata(descriptions[final.stem])
            con.execute(
                f"copy {MARTS_SCHEMA}.{final.stem} to '{tmp}'"
                f" (format parquet, compression zstd, kv_metadata {metadata})"
            )
        # Every file is complete before the first rename; each rename is atomic.
        for tmp, final in staged:
            os.replace(tmp, final)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
            tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
    return Published(database=target, parquet=parquet, rows=rows)
