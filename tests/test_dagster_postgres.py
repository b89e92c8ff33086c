"""Dagster's instance on a real PostgreSQL server, configured by dagster.production.yaml as shipped.

Runs, event logs and pool slots must live in PostgreSQL (a shared deployment has no local
SQLite), the `duckdb` pool must still serialise writers there, and `productops status`
must read the last run from it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import psycopg2
import pytest

from orchestration.defs.jobs import ALL_JOB_NAME
from tests.conftest import REPO
from tests.dagster_pg_jobs import tiny_pipeline, two_duckdb_writers


@pytest.fixture
def pg_home(tmp_path, postgres_cluster, monkeypatch) -> tuple[Path, str]:
    """A DAGSTER_HOME holding dagster.production.yaml, pointed at a fresh database of its own."""
    url = postgres_cluster.create_database(f"dagster_{uuid.uuid4().hex[:12]}")
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster.production.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    # SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3; dagster-postgres brings psycopg2.
    monkeypatch.setenv("DAGSTER_PG_URL", url.replace("postgresql://", "postgresql+psycopg2://", 1))
    return home, url


def _query(url: str, sql: str, *params: object) -> list[tuple]:
    con = psycopg2.connect(url)
    try:
        with con.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        con.close()


def test_runs_and_pool_slots_live_in_postgres_and_the_pool_serialises_writers(pg_home, tmp_path):
    home, url = pg_home
    stamps = tmp_path / "stamps"
    stamps.mkdir()
    config = {"out_dir": str(stamps), "seconds": 0.5}
    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        result = dg.execute_job(
            dg.reconstructable(two_duckdb_writers),
            instance=instance,
            run_config={"ops": {"first_writer": {"config": config}, "second_writer": {"config": config}}},
        )
        assert result.success
        run_id = result.run_id
        pool = instance.event_log_storage.get_concurrency_info("duckdb")

    # The run and its events are rows in PostgreSQL, not files under DAGSTER_HOME.
    assert _query(url, "select pipeline_name, status from runs where run_id = %s", run_id) == [
        ("two_duckdb_writers", "SUCCESS")
    ]
    steps = _query(
        url,
        "select step_key from event_logs where run_id = %s"
        " and dagster_event_type = 'STEP_SUCCESS' order by 1",
        run_id,
    )
    assert steps == [("first_writer",), ("second_writer",)]
    assert not list(home.glob("**/*.db")), "no SQLite storage beside the PostgreSQL instance"

    # dagster.production.yaml's default limit gave the pool one slot, held in PostgreSQL and
    # freed at the end of the run.
    assert pool.slot_count == 1
    slots = "select count(*), count(run_id) from concurrency_slots where concurrency_key = 'duckdb'"
    assert _query(url, slots) == [(1, 0)]
    # Two steps with room to run together still ran one after the other.
    (a_start, a_end), (b_start, b_end) = (
        json.loads((stamps / f"{name}.json").read_text()) for name in ("first_writer", "second_writer")
    )
    assert a_end <= b_start or b_end <= a_start, "both duckdb steps held the pool at once"


def test_productops_status_reads_the_last_run_from_postgres(pg_home, tmp_path):
    with dg.DagsterInstance.get() as instance:
        result = tiny_pipeline.resolve_job_def(ALL_JOB_NAME).execute_in_process(instance=instance)
    assert result.success

    env = {k: v for k, v in os.environ.items() if not k.startswith("PRODUCTOPS_")}
    env.update(PRODUCTOPS_WAREHOUSE=str(tmp_path / "warehouse" / "productops.duckdb"), DO_NOT_TRACK="1")
    done = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "status", "--json"],
        env=env,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    status = json.loads(done.stdout)
    assert not [n for n in status["notes"] if "could not be read" in n], status["notes"]
    assert status["run"]["run_id"] == result.run_id
    assert (status["run"]["status"], status["run"]["origin"]) == ("success", "dagster")
    assert [(g["asset"], g["check"], g["passed"]) for g in status["gates"]] == [
        ("landed_batch", "batch_has_rows", True)
    ]

    # docs/production.md's run retention: delete runs created before a cutoff (here, now).
    with dg.DagsterInstance.get() as instance:
        old = dg.RunsFilter(created_before=datetime.now(UTC) + timedelta(seconds=1))
        for record in instance.get_run_records(filters=old):
            instance.delete_run(record.dagster_run.run_id)
    url = os.environ["DAGSTER_PG_URL"].replace("+psycopg2", "")
    assert _query(url, "select count(*) from runs") == [(0,)]
    assert _query(url, "select count(*) from event_logs where run_id = %s", result.run_id) == [(0,)]
