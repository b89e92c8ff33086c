"""A run with nothing new skips dbt and publish; any change to what a build reads rebuilds.

The first part checks the fingerprint (orchestration/build_inputs.py) on a real DuckDB
warehouse, one hand-made change at a time: a changed, flagged-deleted or removed raw row,
a seed and a KPI-target CSV, a dbt model, the as-of date, a setting and the config file.
The second part runs the real pipeline three times: a full run, a run with nothing new
(dbt and publish skipped, the reason in the run record and in `productops status`), and a
run after a seed edit, which builds and publishes the edit.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from ingestion.config import load_settings
from orchestration import build_inputs
from orchestration.dbt_setup import DBT_PROJECT_DIR
from tests.conftest import demo_run_env
from tests.test_cli import _cli

# -- the fingerprint, change by change -----------------------------------------------


@pytest.fixture
def case(pipeline_env, monkeypatch, tmp_path, demo_org):
    """A warehouse with two raw tables, a seed folder, a dbt project and a config file of its own."""
    seeds = tmp_path / "seeds"
    shutil.copytree(demo_org / "seeds", seeds)
    config = tmp_path / "productops.toml"
    shutil.copy(demo_org / "productops.toml", config)
    project = tmp_path / "dbt_project"
    for folder in ("models", "macros", "tests", "seeds"):
        shutil.copytree(DBT_PROJECT_DIR / folder, project / folder)
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(DBT_PROJECT_DIR / name, project / name)
    monkeypatch.setattr(build_inputs, "DBT_PROJECT_DIR", project)
    monkeypatch.setenv("PRODUCTOPS_SEEDS_DIR", str(seeds))
    monkeypatch.setenv("PRODUCTOPS_CONFIG", str(config))
    monkeypatch.setenv("PRODUCTOPS_AS_OF", "2026-11-20")
    monkeypatch.setenv("PRODUCTOPS_SALT", "a-salt-for-this-test")
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "sources": {
                    "source.p.jira.issues": {"schema": "raw", "identifier": "jira_issues"},
                    "source.p.usage.events": {"schema": "raw", "identifier": "usage_events"},
                }
            }
        )
    )
    warehouse = pipeline_env["warehouse"]
    warehouse.parent.mkdir(parents=True)
    con = duckdb.connect(str(warehouse))
    con.execute("create schema raw")
    con.execute(
        "create table raw.jira_issues (issue_id varchar primary key, payload json, is_deleted boolean, "
        "_source_url varchar, _loaded_at timestamptz, _run_id varchar)"
    )
    con.execute(
        "insert into raw.jira_issues values "
        "('1', '{\"k\": \"PAY-1\"}', false, 'demo://jira?page=1', '2026-11-01 10:00+00', 'run-a'), "
        "('2', '{\"k\": \"PAY-2\"}', false, 'demo://jira?page=1', '2026-11-01 10:00+00', 'run-a')"
    )
    con.execute("create table raw.usage_events (event_key varchar, tool varchar, _run_id varchar)")
    con.execute("insert into raw.usage_events values ('e1', 'figma', 'run-a'), ('e1', 'figma', 'run-a')")
    published = pipeline_env["published"]
    published.parent.mkdir(parents=True)
    published.write_bytes(b"published marts")

    def inputs():
        return build_inputs.compute(con, load_settings(), manifest)

    build_inputs.record_build(con, "run-a", inputs())
    build_inputs.record_publish(con, "run-a")
    yield {
        "con": con,
        "inputs": inputs,
        "seeds": seeds,
        "config": config,
        "project": project,
        "published": published,
    }
    con.close()


def _verdict(case) -> tuple[str | None, list[str]]:
    return build_inputs.nothing_new_reason(case["con"], case["inputs"](), load_settings())


def test_the_same_inputs_are_nothing_new_even_when_rows_were_re_landed(case):
    reason, changed = _verdict(case)
    assert changed == []
    assert reason.startswith("no raw row, seed, dbt model, setting or as-of date changed since run run-a")
    # A re-landed, unchanged row joins the run's batch (a new _run_id), maybe read from another
    # page (an incremental listing's URL), but changes nothing dbt builds.
    case["con"].execute("update raw.jira_issues set _run_id = 'run-b', _source_url = 'demo://jira?since=x'")
    assert _verdict(case) == (reason, [])


@pytest.mark.parametrize(
    "change",
    [
        "update raw.jira_issues set payload = '{\"k\": \"PAY-9\"}' where issue_id = '2'",
        "update raw.jira_issues set is_deleted = true where issue_id = '2'",  # a deletion sweep
        "delete from raw.jira_issues where issue_id = '2'",  # a rewound or forgotten row
        "update raw.jira_issues set _loaded_at = '2026-11-02 10:00+00' where issue_id = '1'",
    ],
)
def test_a_changed_flagged_or_removed_raw_row_rebuilds(case, change):
    case["con"].execute(change)
    assert _verdict(case) == (None, ["raw raw.jira_issues"])


def test_removing_one_of_two_equal_rows_rebuilds(case):
    # A sum of row hashes, not a xor: two equal rows do not cancel out.
    case["con"].execute("delete from raw.usage_events")
    case["con"].execute("insert into raw.usage_events values ('e1', 'figma', 'run-a')")
    assert _verdict(case) == (None, ["raw raw.usage_events"])


@pytest.mark.parametrize("seed", ["teams.csv", "kpi_targets.csv"])
def test_an_edited_seed_or_target_csv_rebuilds(case, seed):
    path = case["seeds"] / seed
    path.write_text(path.read_text().replace(",10,", ",11,", 1).replace("Payments", "Payments EU", 1))
    assert _verdict(case) == (None, ["seeds"])


def test_an_edited_dbt_model_rebuilds(case):
    model = next((case["project"] / "models" / "marts").glob("*.sql"))
    model.write_text(model.read_text() + "\n-- edited\n")
    assert _verdict(case) == (None, ["dbt project"])


def test_another_as_of_date_rebuilds(case, monkeypatch):
    monkeypatch.setenv("PRODUCTOPS_AS_OF", "2026-11-21")
    assert _verdict(case) == (None, ["as-of date"])


def test_another_setting_or_config_file_rebuilds(case, monkeypatch):
    # A new salt gives every pseudonymous id anew (only its digest is kept).
    monkeypatch.setenv("PRODUCTOPS_SALT", "another-salt")
    assert _verdict(case) == (None, ["settings"])
    monkeypatch.setenv("PRODUCTOPS_SALT", "a-salt-for-this-test")
    assert _verdict(case)[1] == []
    # e.g. the anonymity threshold, which reaches dbt through its environment
    case["config"].write_text(case["config"].read_text() + "\n# edited\n")
    assert _verdict(case) == (None, ["config file"])


def test_no_published_file_or_no_published_build_rebuilds(case):
    case["published"].unlink()
    assert _verdict(case)[0] is None
    case["published"].write_bytes(b"published marts")
    # A publish from a run without a recorded build (dbt built in another run) is no known build.
    build_inputs.record_publish(case["con"], "run-without-build")
    assert _verdict(case) == (None, ["no published build on record"])


# -- the pipeline: full run, nothing new, a seed edit ---------------------------------------


def _run(env, *args) -> subprocess.CompletedProcess:
    return _cli(list(args), env)


def _team_names(published: Path) -> set[str]:
    with duckdb.connect(str(published), read_only=True) as con:
        return {name for (name,) in con.execute("select team_name from marts.dim_teams").fetchall()}


def test_a_run_with_nothing_new_skips_dbt_and_publish_and_a_seed_edit_rebuilds(tmp_path, demo_org):
    demo = tmp_path / "demo"
    shutil.copytree(demo_org, demo)
    env = demo_run_env(tmp_path, demo)
    published = Path(env["PRODUCTOPS_PUBLISHED"])

    first = _run(env, "run")
    assert first.returncode == 0, first.stderr[-4000:]
    assert "[dbt] done:" in first.stderr
    published_at = published.resolve().stat().st_mtime_ns

    second = _run(env, "run")
    assert second.returncode == 0, second.stderr[-4000:]
    assert "[dbt] nothing new: no raw row, seed, dbt model, setting or as-of date changed" in second.stderr, (
        second.stderr[-3000:]
    )
    assert "[dbt] done:" not in second.stderr and "[publish]" not in second.stderr
    assert "Nothing new: no raw row" in second.stdout
    assert published.resolve().stat().st_mtime_ns == published_at  # readers' files untouched
    status = _run(env, "status")
    assert "built      nothing new, dbt and publish skipped: no raw row" in status.stdout
    record = json.loads((Path(env["PRODUCTOPS_WAREHOUSE"]).parent / "logs" / "last_run.json").read_text())
    assert record["status"] == "success" and record["nothing_new"].startswith("no raw row")

    teams = demo / "seeds" / "teams.csv"
    teams.write_text(teams.read_text().replace("payments,Payments,", "payments,Payments & Billing,"))
    third = _run(env, "run")
    assert third.returncode == 0, third.stderr[-4000:]
    assert "[dbt] changed since the published build: seeds" in third.stderr
    assert "[dbt] done:" in third.stderr
    assert "Payments & Billing" in _team_names(published)
    record = json.loads((Path(env["PRODUCTOPS_WAREHOUSE"]).parent / "logs" / "last_run.json").read_text())
    assert record["nothing_new"] == ""
