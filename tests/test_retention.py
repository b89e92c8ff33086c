"""Disks do not fill: dbt artefacts under the warehouse folder with the newest few kept, and old
runs pruned from the Dagster instance."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta

import dagster as dg

from orchestration import dbt_artefacts
from orchestration.run_retention import prune_runs
from tests.conftest import REPO


def test_only_the_newest_dbt_builds_are_kept(tmp_path):
    warehouse = tmp_path / "warehouse" / "productops.duckdb"
    runs = dbt_artefacts.runs_dir(warehouse)
    names = [f"20261201T0000{n:02d}-run{n:05d}" for n in range(8)]
    for name in names:
        (runs / name).mkdir(parents=True)
        (runs / name / "run_results.json").write_text("{}")
    removed = dbt_artefacts.prune(warehouse, keep=3)
    assert sorted(p.name for p in removed) == names[:5]
    assert sorted(p.name for p in runs.iterdir()) == names[5:]


def test_a_build_starts_from_the_newest_earlier_builds_parse_state(tmp_path):
    warehouse = tmp_path / "productops.duckdb"
    runs = dbt_artefacts.runs_dir(warehouse)
    target = runs / "20261205T100000-cccccccc"
    assert dbt_artefacts.seed_partial_parse(warehouse, target) is None  # a first build parses all
    for name, state in (("20261205T080000-aaaaaaaa", b"older"), ("20261205T090000-bbbbbbbb", b"newer")):
        (runs / name).mkdir(parents=True)
        (runs / name / dbt_artefacts.PARTIAL_PARSE).write_bytes(state)
    (runs / "20261205T093000-failed00").mkdir()  # a build that died before dbt wrote its state

    assert (
        dbt_artefacts.seed_partial_parse(warehouse, target)
        == runs / "20261205T090000-bbbbbbbb" / "partial_parse.msgpack"
    )
    assert (target / dbt_artefacts.PARTIAL_PARSE).read_bytes() == b"newer"


def test_a_run_leaves_its_dbt_artefacts_under_the_warehouse_not_in_the_checkout(published_demo):
    builds = list(dbt_artefacts.runs_dir(published_demo.warehouse).iterdir())
    assert len(builds) == 1
    assert (builds[0] / "run_results.json").is_file() and (builds[0] / "manifest.json").is_file()
    run_id = builds[0].name.split("-", 1)[1]
    assert not list((REPO / "dbt_project" / "target").glob(f"productops_dbt-{run_id[:7]}*"))


@dg.op
def noop() -> int:
    return 1


@dg.job
def tiny():
    noop()


def test_old_runs_leave_the_dagster_instance(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        run_ids = [tiny.execute_in_process(instance=instance).run_id for _ in range(3)]
        shards = [home / "history" / "runs" / f"{run_id}.db" for run_id in run_ids]
        assert all(shard.is_file() for shard in shards)
        # Nothing is old yet: nothing goes.
        assert prune_runs(instance, days=30, keep=1) == 0
        later = datetime.now(UTC) + timedelta(days=31)
        assert prune_runs(instance, days=30, keep=1, now=later) == 2
        assert [r.run_id for r in instance.get_runs()] == [run_ids[-1]]
        assert [shard.is_file() for shard in shards] == [False, False, True]
        storage = home / "storage"
        left = set(os.listdir(storage)) if storage.is_dir() else set()
        assert not left & set(run_ids[:2])


def test_dagster_yaml_purges_ticks_and_says_where_run_history_goes():
    text = (REPO / "dagster.yaml").read_text()
    assert "\nretention:\n" in text and "PRODUCTOPS_RUN_HISTORY_DAYS" in text
