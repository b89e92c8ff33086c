"""Shipping the raw layer to Spark (Parquet versions switched by one rename) and the Spark
session settings, without starting Spark: the Spark build itself is in tests/test_engines.py."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ingestion.destinations import spark
from ingestion.destinations.spark import (
    SparkUnavailable,
    check_spark_available,
    current_raw_version,
    ship_raw,
)
from orchestration.publishing_spark import spark_session_conf


@pytest.fixture
def staging(tmp_path) -> duckdb.DuckDBPyConnection:
    """A staging warehouse with three raw tables, one with a JSON payload."""
    con = duckdb.connect(str(tmp_path / "staging.duckdb"))
    con.execute("create schema raw")
    con.execute("create table raw.jira_issues (issue_id varchar, payload json, _loaded_at timestamptz)")
    con.execute(
        """insert into raw.jira_issues values
        ('1', '{"fields": {"status": {"id": "3"}}}', '2026-11-01 10:00:00+00'),
        ('2', '{"fields": {}}', '2026-11-02 10:00:00+00')"""
    )
    con.execute("create table raw.usage_events as select range as id from range(5)")
    con.execute("create table raw.load_state (source varchar)")
    yield con
    con.close()


def _read(version: Path, table: str) -> list[tuple]:
    with duckdb.connect() as con:
        return con.execute(f"select * from '{version / table}/*.parquet' order by all").fetchall()


def test_every_raw_table_ships_as_parquet_into_a_version_current_points_at(staging, tmp_path):
    rows = ship_raw(staging, tmp_path / "spark")
    assert rows == {"jira_issues": 2, "load_state": 0, "usage_events": 5}
    version = current_raw_version(tmp_path / "spark")
    assert version is not None and version.parent.name == "versions"
    assert (tmp_path / "spark" / "raw" / "current").is_symlink()
    # JSON arrives as text (Spark's JSON functions read strings); timestamps stay instants.
    issues = _read(version, "jira_issues")
    assert issues[0][:2] == ("1", '{"fields": {"status": {"id": "3"}}}')
    with duckdb.connect() as con:
        described = con.execute(f"describe select * from '{version}/jira_issues/*.parquet'").fetchall()
    types = {row[0]: row[1] for row in described}
    assert types["payload"] == "VARCHAR" and types["_loaded_at"] == "TIMESTAMP WITH TIME ZONE"
    assert [r[0] for r in _read(version, "usage_events")] == [0, 1, 2, 3, 4]


def test_a_partial_ship_carries_the_other_tables_over_and_keeps_the_previous_version(staging, tmp_path):
    spark_dir = tmp_path / "spark"
    ship_raw(staging, spark_dir)
    first = current_raw_version(spark_dir)
    staging.execute("insert into raw.jira_issues values ('3', '{}', '2026-11-03 10:00:00+00')")
    assert ship_raw(staging, spark_dir, ["jira_issues"]) == {"jira_issues": 3}
    second = current_raw_version(spark_dir)
    assert second != first and first.is_dir()  # readers still on the first keep it
    assert len(_read(second, "jira_issues")) == 3 and len(_read(first, "jira_issues")) == 2
    # The other tables are the previous files themselves (hard links), not copies.
    old_file, new_file = first / "usage_events" / "data.parquet", second / "usage_events" / "data.parquet"
    assert new_file.stat().st_ino == old_file.stat().st_ino
    ship_raw(staging, spark_dir)
    versions = sorted(p.name for p in (spark_dir / "raw" / "versions").iterdir())
    assert versions == sorted([second.name, current_raw_version(spark_dir).name])  # the first is gone


def test_a_failed_ship_leaves_spark_on_the_version_it_had(staging, tmp_path, monkeypatch):
    spark_dir = tmp_path / "spark"
    ship_raw(staging, spark_dir)
    before = current_raw_version(spark_dir)
    with pytest.raises(ValueError, match="not raw tables of the staging warehouse: nope"):
        ship_raw(staging, spark_dir, ["jira_issues", "nope"])

    def broken(con, table):  # the disk fills while writing the second table
        if table == "load_state":
            raise OSError("No space left on device")
        return original(con, table)

    original = spark._select_for_parquet
    monkeypatch.setattr(spark, "_select_for_parquet", broken)
    with pytest.raises(OSError, match="No space left"):
        ship_raw(staging, spark_dir)
    assert current_raw_version(spark_dir) == before
    assert sorted(p.name for p in (spark_dir / "raw" / "versions").iterdir()) == [before.name]


def test_the_spark_session_gets_the_salt_as_a_reference_never_its_value(tmp_path):
    conf = spark_session_conf({"PRODUCTOPS_SPARK_DIR": str(tmp_path), "PRODUCTOPS_SALT": "pepper-123"})
    assert "pepper-123" not in "".join(f"{k}={v}" for k, v in conf.items())
    assert conf["spark.productops.salt"] == "${env:PRODUCTOPS_SALT}"
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert conf["spark.sql.warehouse.dir"] == f"{tmp_path}/warehouse"
    metastore = conf["spark.hadoop.javax.jdo.option.ConnectionURL"]
    assert f"databaseName={tmp_path}/metastore/metastore_db" in metastore
    assert 2 <= int(conf["spark.sql.shuffle.partitions"]) <= 4


def test_a_missing_java_is_named_before_anything_ships(monkeypatch, tmp_path):
    check_spark_available()  # this machine has both
    monkeypatch.setenv("PATH", str(tmp_path))  # no java on it
    with pytest.raises(SparkUnavailable, match="Java 17 or newer on PATH"):
        check_spark_available()
