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

The Parquet exports are one set, swapped as one: each publish writes every
mart into a new hidden folder `.parquet-<time>-<id>/`, then points the
symlink `parquet` at it with one rename. `<mart>.parquet` beside the DuckDB
file is a fixed symlink through `parquet/`, so old paths keep working, and a
crash leaves `parquet` on the old complete set or the new one, never a mix.
The previous set stays until the next publish, for readers still on it.
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


PARQUET_LINK = "parquet"
PARQUET_SET_PREFIX = ".parquet-"


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
    _remove_stale_tmp_files(target.parent, [target.name, PARQUET_LINK, *(p.name for p in parquet.values())])
    staged = [(_tmp(target), target)]
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
        parquet_set = _write_parquet_set(con, target.parent, descriptions)
        # Every file is complete before the first rename; each rename is atomic.
        os.replace(staging_db, target)
        _swap_parquet_set(target.parent, parquet_set, tables)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
            tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
    return Published(database=target, parquet=parquet, rows=rows)


def _write_parquet_set(con: duckdb.DuckDBPyConnection, folder: Path, descriptions: dict) -> Path:
    """Every mart (`descriptions` maps each to its descriptions) into a new hidden folder."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    parquet_set = folder / f"{PARQUET_SET_PREFIX}{stamp}-{uuid.uuid4().hex[:8]}"
    parquet_set.mkdir()
    try:
        for table, described in descriptions.items():
            path = parquet_set / f"{table}.parquet"
            metadata = _parquet_metadata(described)
            con.execute(
                f"copy {MARTS_SCHEMA}.{table} to '{path}'"
                f" (format parquet, compression zstd, kv_metadata {metadata})"
            )
    except BaseException:
        shutil.rmtree(parquet_set, ignore_errors=True)
        raise
    return parquet_set


def _replace_with_symlink(path: Path, points_to: str) -> None:
    """`path` becomes a symlink to `points_to`, in one rename (atomic for readers)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}{TMP_SUFFIX}")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(points_to)
    os.replace(tmp, path)


def _swap_parquet_set(folder: Path, parquet_set: Path, tables: list[str]) -> None:
    """Point `parquet` at the new set (one rename), give each mart its stable path, drop older sets."""
    link = folder / PARQUET_LINK
    if link.is_dir() and not link.is_symlink():
        # A copy that followed the symlink (cp -rL): set the folder aside as an old set.
        link.rename(folder / f"{PARQUET_SET_PREFIX}copied-{uuid.uuid4().hex[:8]}")
    previous = os.readlink(link) if link.is_symlink() else None
    _replace_with_symlink(link, parquet_set.name)
    for table in tables:
        stable = folder / f"{table}.parquet"
        if not (stable.is_symlink() and os.readlink(stable) == f"{PARQUET_LINK}/{table}.parquet"):
            _replace_with_symlink(stable, f"{PARQUET_LINK}/{table}.parquet")
    # Older sets, and the half-written set of a crashed publish, go; the previous stays for its readers.
    keep = {parquet_set.name, previous}
    for old in folder.glob(f"{PARQUET_SET_PREFIX}*"):
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)
