"""Publish the marts dbt built on Spark: a Spark snapshot, then the files every reader opens.

Two steps, each switched in with one rename:

1. **Snapshot on Spark.** A Spark job (the same session settings as dbt's
   `spark` target, read from profiles.yml) writes every mart as Parquet into a
   new version folder and points `<spark_dir>/published/current` at it. Spark or
   Databricks readers use that folder; the previous snapshot stays until the
   next publish.
2. **Where readers look.** The snapshot goes through the DuckDB publish
   (orchestration/publishing.py) unchanged: DuckDB reads the Parquet files
   (no rows through Python), and the published DuckDB file plus one Parquet
   file per mart beside PRODUCTOPS_PUBLISHED are swapped in as one set, with
   the same comments and Parquet metadata (the descriptions of dbt's YAML)
   as on the DuckDB engine. The
   dashboard, BI tools and notifications read the same paths whatever engine
   built the marts.

The Spark job runs in its own process: its JVM (and the Derby metastore's
lock) ends with it, so the next dbt run can open the metastore, and a
long-lived Dagster process never keeps a JVM.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import duckdb

from ingestion.destinations.spark import CURRENT_LINK, new_version_folder, switch_current
from orchestration.publishing import (
    MARTS_SCHEMA,
    Descriptions,
    Published,
    _comment_statements,
    _ident,
    publish_marts,
    sql_string,
)

PUBLISHED_FOLDER = "published"
PROFILES_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
PROFILE, SPARK_TARGET = "productops", "spark"


class SparkPublishError(RuntimeError):
    pass


def spark_session_conf(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The Spark settings of dbt's `spark` target (profiles.yml), rendered with `env`:
    the publish reads the very metastore and warehouse dbt wrote."""
    import yaml
    from dbt.config.renderer import ProfileRenderer
    from dbt_common.context import set_invocation_context

    set_invocation_context(dict(os.environ if env is None else env))
    profiles = yaml.safe_load((PROFILES_DIR / "profiles.yml").read_text())
    target = profiles[PROFILE]["outputs"][SPARK_TARGET]
    rendered = ProfileRenderer({}).render_data(target)
    return {str(k): str(v) for k, v in rendered.get("server_side_parameters", {}).items()}


def snapshot_root(spark_dir: Path) -> Path:
    return Path(spark_dir) / PUBLISHED_FOLDER


def current_snapshot(spark_dir: Path) -> Path | None:
    link = snapshot_root(spark_dir) / CURRENT_LINK
    return link.resolve() if link.is_symlink() else None


def _write_snapshot(spark_dir: Path, tables: list[str]) -> Path:
    """In a Spark session: every mart into a new snapshot version folder, switched in."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.enableHiveSupport()
    for key, value in spark_session_conf().items():
        builder = builder.config(key, value)
    spark = builder.config("spark.app.name", "productops-publish").getOrCreate()
    root = snapshot_root(spark_dir)
    version = new_version_folder(root)
    try:
        for table in tables:
            # One file per mart: small tables, and readers of the snapshot find one part.
            spark.table(f"{MARTS_SCHEMA}.{table}").coalesce(1).write.parquet(str(version / table))
    except BaseException:
        shutil.rmtree(version, ignore_errors=True)
        raise
    finally:
        spark.stop()
    switch_current(root, version)
    return version


def write_snapshot(spark_dir: Path, tables: list[str], env: Mapping[str, str] | None = None) -> Path:
    """Run the Spark snapshot job in a child process; the snapshot folder it switched in."""
    command = [sys.executable, "-m", "orchestration.publishing_spark", "--spark-dir", str(spark_dir)]
    command += ["--tables", ",".join(sorted(tables))]
    child_env = {**os.environ, **(env or {}), "SPARK_LOCAL_IP": "127.0.0.1"}
    result = subprocess.run(command, env=child_env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-30:])
        raise SparkPublishError(f"the Spark snapshot of the marts failed:\n{tail}")
    return Path(result.stdout.strip().splitlines()[-1])


def mart_descriptions_from_manifest(tables: list[str]) -> dict[str, Descriptions]:
    """The marts' descriptions from dbt's YAML (the manifest): dbt-spark persists no
    column comments on Parquet tables, and these are the texts DuckDB's comments hold."""
    from orchestration.dbt_setup import ensure_manifest

    nodes = json.loads(ensure_manifest().read_text())["nodes"].values()
    models = {n["name"]: n for n in nodes if n["resource_type"] == "model" and n["schema"] == MARTS_SCHEMA}
    described = {}
    for table in tables:
        node = models.get(table, {})
        columns = {name: c["description"] for name, c in node.get("columns", {}).items()}
        columns = {name: text for name, text in columns.items() if text}
        described[table] = Descriptions(table=node.get("description") or None, columns=columns)
    return described


def _load_snapshot(con: duckdb.DuckDBPyConnection, version: Path, tables: list[str]) -> None:
    """The snapshot's marts as DuckDB tables in schema marts, their descriptions as comments."""
    con.execute(f"create schema if not exists {MARTS_SCHEMA}")
    for table, described in mart_descriptions_from_manifest(tables).items():
        relation = f"{MARTS_SCHEMA}.{_ident(table)}"
        files = str(version / table / "*.parquet")
        con.execute(f"create table {relation} as select * from read_parquet({sql_string(files)})")
        for statement in _comment_statements(relation, described):
            con.execute(statement)


def publish_spark_marts(
    spark_dir: Path, published: Path, tables: list[str], env: Mapping[str, str] | None = None
) -> Published:
    """Snapshot the Spark marts, then publish them where readers look (see the module doc)."""
    version = write_snapshot(spark_dir, tables, env)
    with duckdb.connect() as con:
        con.execute("set time zone 'UTC'")
        _load_snapshot(con, version, tables)
        return publish_marts(con, published, tables)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a Spark snapshot of the marts (internal).")
    parser.add_argument("--spark-dir", type=Path, required=True)
    parser.add_argument("--tables", required=True, help="comma-separated mart names")
    args = parser.parse_args(argv)
    version = _write_snapshot(args.spark_dir, [t for t in args.tables.split(",") if t])
    print(version)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
