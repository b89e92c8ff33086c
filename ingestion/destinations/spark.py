"""Ship the raw layer to Spark: one Parquet table per raw table, switched in as one version.

The loader lands, quarantines and gates in the local DuckDB staging file as on
every engine; this turns the gated raw tables into what Spark reads. DuckDB
writes each table as Parquet (`copy ... (format parquet)`, no rows through
Python) into a new version folder; one rename of the symlink `current` then
switches every table at once:

    <spark_dir>/raw/current -> versions/<time>-<id>
    <spark_dir>/raw/versions/<time>-<id>/<table>/data.parquet

Spark's tables `raw.<table>` are external Parquet tables whose location goes
through `current` (the dbt on-run-start hook `prepare_raw_relations` declares
them), so a dbt run reads one complete version: the old one until the switch,
the new one after it, never a mix. The previous version stays until the next
ship, for a Spark job still reading it. A failure before the switch leaves
`current` where it was.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import time
import uuid
from pathlib import Path

import duckdb

from ingestion.raw_tables import RAW_SCHEMA

RAW_FOLDER = "raw"
VERSIONS_FOLDER = "versions"
CURRENT_LINK = "current"
DATA_FILE = "data.parquet"
TMP_SUFFIX = ".tmp"


class SparkUnavailable(RuntimeError):
    """The Spark engine cannot run here: what is missing and how to get it."""


def check_spark_available() -> None:
    """dbt-spark with pyspark (the `spark` extra) and a Java runtime on PATH, or a clear error."""
    missing = [name for name in ("pyspark", "dbt.adapters.spark") if importlib.util.find_spec(name) is None]
    if missing:
        raise SparkUnavailable(
            f"PRODUCTOPS_ENGINE=spark needs {' and '.join(missing)}: install the spark extra"
            " (pip install 'productops-warehouse[spark]': dbt-spark[session] and pyspark)"
        )
    if shutil.which("java") is None:
        raise SparkUnavailable(
            "PRODUCTOPS_ENGINE=spark needs Java 17 or newer on PATH for local pyspark"
            " (Debian: apt-get install openjdk-17-jre-headless)"
        )


def raw_root(spark_dir: Path) -> Path:
    return Path(spark_dir) / RAW_FOLDER


def current_raw_version(spark_dir: Path) -> Path | None:
    """The version folder Spark's raw tables read now (None before the first ship)."""
    link = raw_root(spark_dir) / CURRENT_LINK
    return link.resolve() if link.is_symlink() else None


def staging_raw_tables(staging: duckdb.DuckDBPyConnection) -> list[str]:
    rows = staging.execute(
        "select table_name from information_schema.tables"
        " where table_schema = ? and table_type = 'BASE TABLE' order by table_name",
        [RAW_SCHEMA],
    ).fetchall()
    return [row[0] for row in rows]


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _select_for_parquet(staging: duckdb.DuckDBPyConnection, table: str) -> str:
    """The table's rows with JSON columns as plain text: Spark reads Parquet's JSON
    annotation poorly, and its JSON functions take strings anyway."""
    columns = staging.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_schema = ? and table_name = ? order by ordinal_position",
        [RAW_SCHEMA, table],
    ).fetchall()
    if not columns:
        raise ValueError(f"no table {RAW_SCHEMA}.{table} in the staging warehouse")
    select = [
        f"cast({_ident(name)} as varchar) as {_ident(name)}" if data_type == "JSON" else _ident(name)
        for name, data_type in columns
    ]
    return f"select {', '.join(select)} from {RAW_SCHEMA}.{_ident(table)}"


def ship_raw(
    staging: duckdb.DuckDBPyConnection, spark_dir: Path, tables: list[str] | None = None
) -> dict[str, int]:
    """Write the staging raw tables (all, or `tables`) as Parquet into a new raw
    version under `spark_dir` and switch Spark's raw layer to it; rows per table.

    Tables not in `tables` are carried over from the current version (hard
    links, no copy), so the new version is always the complete raw layer.
    """
    root = raw_root(spark_dir)
    every_table = staging_raw_tables(staging)
    shipped = every_table if tables is None else sorted(tables)
    unknown = sorted(set(shipped) - set(every_table))
    if unknown:
        raise ValueError(f"not raw tables of the staging warehouse: {', '.join(unknown)}")

    new_version = new_version_folder(root)
    rows: dict[str, int] = {}
    try:
        for table in shipped:
            folder = new_version / table
            folder.mkdir()
            path = folder / DATA_FILE
            select = _select_for_parquet(staging, table)
            staging.execute(f"copy ({select}) to '{path}' (format parquet, compression zstd)")
            rows[table] = staging.execute(f"select count(*) from read_parquet('{path}')").fetchall()[0][0]
        previous = current_raw_version(spark_dir)
        if previous is not None:
            for table in sorted(set(every_table) - set(shipped)):
                _carry_over(previous / table, new_version / table)
    except BaseException:
        shutil.rmtree(new_version, ignore_errors=True)
        raise
    switch_current(root, new_version)
    return rows


def _carry_over(old_folder: Path, new_folder: Path) -> None:
    """A table's files of the previous version into the new one, as hard links."""
    if not old_folder.is_dir():
        return
    new_folder.mkdir()
    for path in old_folder.iterdir():
        if path.is_file():
            os.link(path, new_folder / path.name)


def new_version_folder(root: Path) -> Path:
    """A new, empty folder in `root/versions`, named by time (sortable) and a random id."""
    versions = root / VERSIONS_FOLDER
    versions.mkdir(parents=True, exist_ok=True)
    folder = versions / f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    return folder


def switch_current(root: Path, new_version: Path) -> None:
    """Point `root/current` at `new_version` (a folder of `root/versions`) with one
    rename; keep the version it leaves, for readers still on it, and drop older ones."""
    link = root / CURRENT_LINK
    previous = os.readlink(link) if link.is_symlink() else None
    tmp = root / f".{CURRENT_LINK}.{os.getpid()}{TMP_SUFFIX}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(new_version.relative_to(root))
    os.replace(tmp, link)  # the switch
    keep = {new_version.name, Path(previous).name if previous else None}
    for old in (root / VERSIONS_FOLDER).iterdir():
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)
