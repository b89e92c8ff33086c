"""Bad batches against the real pipeline: each fails at its gate, nothing downstream
runs, readers keep the published files byte for byte, and a good run then publishes.

One good demo run (module fixture) gives every test a warehouse with history and
a published state; each test copies it, injects one kind of fault into its own
copy of the demo organisation and runs the Dagster job in process.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ingestion.config import load_settings
from orchestration.cli import main
from orchestration.gates.report import failure_lines
from tests.conftest import PIPELINE_VARS
from tests.test_publish import fingerprint

pytestmark = pytest.mark.e2e

DBT_STEP = "productops_dbt"  # does not start when a raw gate fails
PUBLISHED = "published/productops"


@dataclass(frozen=True)
class World:
    demo: Path
    warehouse: Path
    published: Path

    def environ(self, monkeypatch) -> None:
        for name in PIPELINE_VARS:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("PRODUCTOPS_DEMO_DIR", str(self.demo))
        monkeypatch.setenv("PRODUCTOPS_WAREHOUSE", str(self.warehouse))
        monkeypatch.setenv("PRODUCTOPS_PUBLISHED", str(self.published))
        monkeypatch.setenv("DO_NOT_TRACK", "1")


def run_pipeline() -> dg.ExecuteInProcessResult:
    from orchestration.dbt_setup import apply_dbt_env, ensure_manifest

    apply_dbt_env(load_settings())
    ensure_manifest()
    from orchestration.definitions import ALL_JOB_NAME, defs

    return defs.resolve_job_def(ALL_JOB_NAME).execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )


def failed_gates(result: dg.ExecuteInProcessResult) -> dict[str, str]:
    return {
        f"{check.asset_key.to_user_string()} · {check.check_name}": check.description or ""
        for check in result.get_asset_check_evaluations()
        if not check.passed
    }


def materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {event.asset_key.to_user_string() for event in result.get_asset_materialization_events()}


def ledger(world: World, run_id: str) -> dict[str, str]:
    with duckdb.connect(str(world.warehouse), read_only=True) as con:
        return dict(
            con.execute("select source, status from audit.batches where run_id = ?", [run_id]).fetchall()
        )


@pytest.fixture(scope="module")
def baseline(tmp_path_factory, demo_org) -> World:
    """One good run of the demo: a warehouse with a validated history and published marts."""
    root = tmp_path_factory.mktemp("baseline")
    world = World(demo_org, root / "productops.duckdb", root / "published" / "productops.duckdb")
    with pytest.MonkeyPatch.context() as monkeypatch:
        world.environ(monkeypatch)
        result = run_pipeline()
    assert result.success, failure_lines(result.all_events, world.published)
    return world


@pytest.fixture
def world(baseline, tmp_path, monkeypatch) -> World:
    """A private copy of the demo, the warehouse and the published files."""
    copy = World(
        tmp_path / "demo", tmp_path / "productops.duckdb", tmp_path / "published" / "productops.duckdb"
    )
    shutil.copytree(baseline.demo, copy.demo)
    shutil.copy2(baseline.warehouse, copy.warehouse)
    shutil.copytree(baseline.published.parent, copy.published.parent)
    copy.environ(monkeypatch)
    return copy


def assert_stopped_at_raw_gates(
    result: dg.ExecuteInProcessResult, world: World, before: dict[str, str]
) -> None:
    assert not result.success
    built = materialized(result)
    assert not {key for key in built if key.startswith("marts/") or key.startswith("staging/")}, built
    assert PUBLISHED not in built
    started = {event.step_key for event in result.all_events if event.event_type_value == "STEP_START"}
    assert DBT_STEP not in started and "published__productops" not in started
    assert fingerprint(world.published.parent) == before


# -- one kind of bad batch per test ----------------------------------------------------


def test_duplicate_keys_stop_the_run_at_the_jira_suite(world, capsys):
    page = world.demo / "api" / "jira" / "pages" / "search-0001.json"
    body = json.loads(page.read_text())
    first, second = body["issues"][0], body["issues"][1]
    assert second["changelog"]["total"] == len(second["changelog"]["histories"])  # no changelog follow-up
    second["key"] = first["key"]
    page.write_text(json.dumps(body))
    before = fingerprint(world.published.parent)

    # Through the command line, as an operator sees it.
    assert main(["run"]) == 1
    err = capsys.readouterr().err
    gate = next(line for line in err.splitlines() if line.startswith("GATE FAILED"))
    assert gate.startswith("GATE FAILED jira/issues · batch_expectations: raw.jira_issues: 1 of ")
    assert "issue_key is unique: 2 of 750 rows fail (e.g. " + first["key"] + ")" in gate
    assert sum(line.startswith("GATE FAILED") for line in err.splitlines()) == 1
    not_run = "engine__raw_shipped, notifications__kpi_alerts_sent, productops_dbt, published__productops"
    assert "NOT RUN because of the failures above: " + not_run in err
    assert "Published marts left unchanged: " + str(world.published) in err
    assert fingerprint(world.published.parent) == before


def test_an_out_of_range_score_stops_the_run_at_the_survey_answers_suite(world):
    # A mapping that lets 0–100 through for the recommend question, and one answer of 42.
    config = world.demo / "productops.toml"
    config.write_text(
        config.read_text().replace("recommend_scale = [0, 10]", "recommend_scale = [0, 100]", 1)
    )
    export = world.demo / "landing" / "surveys" / "pulse-gforms-2026-Q2.csv"
    lines = export.read_text().splitlines(keepends=True)
    cells = lines[1].split('","')
    cells[6] = "42"
    lines[1] = '","'.join(cells)
    export.write_text("".join(lines))
    before = fingerprint(world.published.parent)

    result = run_pipeline()

    gates = failed_gates(result)
    assert list(gates) == ["surveys/answers · batch_expectations"]
    # Only the survey whose export and mapping changed was read again: its 60
    # recommend answers are the batch (the other survey's exports were skipped).
    assert (
        "recommend answers lie on the 0–10 eNPS scale: 1 of 60 rows fail (e.g. 42.0)"
        in gates["surveys/answers · batch_expectations"]
    )
    assert_stopped_at_raw_gates(result, world, before)
    assert ledger(world, result.run_id) == {
        "jira": "passed",
        "github": "passed",
        "okta": "passed",
        "usage": "passed",
        "surveys": "failed",
        "linear": "passed",  # not configured: an empty batch passes its gates
    }


def test_a_volume_collapse_stops_the_run_and_the_next_run_sees_it_again(world):
    # Every usage export but the newest re-delivered with only its first 10 lines.
    usage = world.demo / "landing" / "usage"
    files = sorted(usage.iterdir())
    newest = max(files, key=lambda p: p.name.replace(".gz", ""))
    for path in files:
        if path == newest:
            continue
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt") as fh:
            head = [next(fh) for _ in range(10)]
        with opener(path, "wt") as fh:
            fh.writelines(head)
    with duckdb.connect(str(world.warehouse), read_only=True) as con:
        (kept,) = con.execute(
            "select count(*) from raw.usage_events where _source_file = ?", [f"usage/{newest.name}"]
        ).fetchall()[0]
    expected = kept + 10 * (len(files) - 1)
    before = fingerprint(world.published.parent)

    result = run_pipeline()

    gates = failed_gates(result)
    assert list(gates) == ["usage/events · volume_not_collapsed"]
    assert gates["usage/events · volume_not_collapsed"].startswith(
        f"raw.usage_events: {expected} rows after this load ({10 * (len(files) - 1)} landed), "
    )
    assert (
        "fewer than after the previous load (26177 rows); at most 50% fewer allowed"
        in gates["usage/events · volume_not_collapsed"]
    )
    assert_stopped_at_raw_gates(result, world, before)
    # The files of the failed batch are read again next time: the collapse cannot slip through.
    again = run_pipeline()
    assert list(failed_gates(again)) == ["usage/events · volume_not_collapsed"]
    assert fingerprint(world.published.parent) == before


def test_a_stale_source_stops_the_run_at_its_freshness_gate(baseline, tmp_path, monkeypatch):
    # A first run on a landing folder whose usage logs stop at the end of September.
    world = World(
        tmp_path / "demo", tmp_path / "productops.duckdb", tmp_path / "published" / "productops.duckdb"
    )
    shutil.copytree(baseline.demo, world.demo)
    shutil.copytree(baseline.published.parent, world.published.parent)
    world.environ(monkeypatch)
    for month in ("2026-10", "2026-11"):
        for path in (world.demo / "landing" / "usage").glob(f"events-{month}.*"):
            path.unlink()
    before = fingerprint(world.published.parent)

    result = run_pipeline()

    gates = failed_gates(result)
    assert list(gates) == ["usage/events · source_is_fresh"]
    message = gates["usage/events · source_is_fresh"]
    assert message.startswith("usage: newest raw.usage_events.occurred_at is 2026-09-")
    assert message.endswith("before 2026-11-20 00:00 UTC; window 72 h")
    assert_stopped_at_raw_gates(result, world, before)


def test_an_unmapped_status_fails_the_dbt_gate_and_nothing_downstream_is_published(world):
    # Three histories start from a workflow status deleted since (gone from the status
    # catalogue) that the status mapping does not know either.
    page = world.demo / "api" / "jira" / "pages" / "search-0001.json"
    search = json.loads(page.read_text())
    for issue in search["issues"][:3]:
        item = next(
            item
            for history in issue["changelog"]["histories"]
            for item in history["items"]
            if item["field"] == "status"
        )
        item["from"], item["fromString"] = "10050", "Triage"
    page.write_text(json.dumps(search))
    before = fingerprint(world.published.parent)

    result = run_pipeline()

    assert not result.success
    gates = failed_gates(result)
    assert set(gates) == {
        "intermediate/int_status_categories · assert_every_status_is_mapped",
        "intermediate/int_status_categories · assert_unmapped_status_share_is_zero",
    }
    lines = failure_lines(result.all_events, world.published)
    share = next(line for line in lines if "assert_unmapped_status_share_is_zero" in line)
    assert share.startswith("GATE FAILED ") and share.endswith(": 1 failing rows (dbt test, severity error)")
    # The raw gates passed; what reads the unmapped status was not built, and nothing was published.
    assert set(ledger(world, result.run_id).values()) == {"passed"}
    built = materialized(result)
    for mart in ("fct_work_items", "fct_status_changes", "delivery_weekly", "team_scorecard_monthly"):
        assert f"marts/{mart}" not in built
    assert PUBLISHED not in built
    assert fingerprint(world.published.parent) == before
    # What the dbt test reports: 3 of the 750 Jira items carry the unknown status.
    with duckdb.connect(str(world.warehouse), read_only=True) as con:
        rows = con.execute(rendered_test(world.warehouse, "assert_unmapped_status_share_is_zero")).fetchall()
    assert rows == [("jira", 3, 750, 0.004)]


def rendered_test(warehouse: Path, name: str) -> str:
    """A singular dbt test's SQL as the run's own dbt build compiled it (macros and refs resolved)."""
    compiled = sorted(warehouse.parent.rglob(f"compiled/**/{name}.sql"), key=lambda p: p.stat().st_mtime)
    assert compiled, f"dbt compiled no {name}.sql under {warehouse.parent}"
    return compiled[-1].read_text()


# -- write-audit-publish: a failed batch stays out until it passes; readers are never in the way


READER = r"""
import json, pathlib, sys, time
import duckdb

# hold: one connection open for the whole run (a BI tool); poll: a new connection
# every 0.2 s (people arriving at any moment). Separate processes: within one
# process DuckDB would hand the poller the held connection's database.
mode, path, stop, out = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3]), pathlib.Path(sys.argv[4])

def state(con):
    tables = con.execute(
        "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
    ).fetchall()
    counts = {t: con.execute(f"select count(*) from marts.{t}").fetchall()[0][0] for (t,) in tables}
    counts["sum(fct_tool_usage_daily.events)"] = int(
        con.execute("select sum(events) from marts.fct_tool_usage_daily").fetchall()[0][0]
    )
    return counts

held = duckdb.connect(path, read_only=True) if mode == "hold" else None
states, errors, last, polls = set(), [], None, 0
print("ready", flush=True)
while True:
    done = stop.exists()
    try:
        if held is not None:
            last = state(held)
        else:
            with duckdb.connect(path, read_only=True) as con:
                last = state(con)
        states.add(json.dumps(last, sort_keys=True))
        polls += 1
    except Exception as exc:
        errors.append(repr(exc))
    if done:
        break
    time.sleep(0.2)
out.write_text(json.dumps({"states": sorted(states), "last": last, "errors": errors, "polls": polls}))
"""


def _usage_lines(roster: Path, tools: Path) -> tuple[list[str], list[str]]:
    """50 events of a person on the roster in a catalogued tool, and 50 unreadable lines."""
    person = next(
        line.split(",")[0]
        for line in roster.read_text().splitlines()[1:]
        if line.split(",")[4] == "" and line.split(",")[3] < "2026-11-01"
    )
    alias = tools.read_text().splitlines()[1].split(",")[2].split("|")[-1]
    good = [
        json.dumps(
            {
                "timestamp": f"2026-11-18T{9 + i // 10:02d}:{i % 10 * 5:02d}:00+00:00",
                "user_email": person,
                "tool": alias,
                "event": "page_viewed",
                "event_id": f"gate-test-{i}",
            }
        )
        for i in range(50)
    ]
    bad = [
        f'{{"timestamp": "2026-11-18T10:00:00+00:00", "user_email": "{person}", "tool": ' for _ in range(50)
    ]
    return good, bad


def test_rejected_records_fail_every_run_until_fixed_then_a_good_run_publishes_past_a_reader(
    world, capsys, tmp_path
):
    good, bad = _usage_lines(world.demo / "seeds" / "roster.csv", world.demo / "seeds" / "tools.csv")
    extra = world.demo / "landing" / "usage" / "events-2026-11-extra.jsonl"
    extra.write_text("\n".join(line for pair in zip(good, bad, strict=True) for line in pair) + "\n")
    before = fingerprint(world.published.parent)
    with duckdb.connect(str(world.published), read_only=True) as con:
        (events_before,) = con.execute("select sum(events) from marts.fct_tool_usage_daily").fetchall()[0]

    # 1. Half of the new file is unreadable: the quarantine gate stops the run.
    assert main(["run"]) == 1
    err = capsys.readouterr().err
    assert (
        "GATE FAILED usage/events · rejected_share_within_threshold: usage: 50 of 100 records rejected "
        "in this run (50.00%); threshold 1.00% and at least 10 records; top reasons: 50 × invalid JSON" in err
    )
    assert "@" not in "\n".join(line for line in err.splitlines() if "GATE" in line)  # never an email
    assert fingerprint(world.published.parent) == before

    # 2. Nothing changed: the next run reads the same file again and stops at the same gate,
    #    so the 50 readable rows of the failed batch never reach the marts on their own.
    again = run_pipeline()
    gates = failed_gates(again)
    assert list(gates) == ["usage/events · rejected_share_within_threshold"]
    assert "50 of 100 records rejected" in gates["usage/events · rejected_share_within_threshold"]
    assert_stopped_at_raw_gates(again, world, before)
    assert ledger(world, again.run_id)["usage"] == "failed"

    # 3. The export is fixed: a good run publishes while a reader holds the published file open.
    extra.write_text("\n".join(good) + "\n")
    stop = tmp_path / "stop"
    readers = {
        mode: subprocess.Popen(
            [
                sys.executable,
                "-c",
                READER,
                mode,
                str(world.published),
                str(stop),
                str(tmp_path / f"{mode}.json"),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for mode in ("hold", "poll")
    }
    try:
        assert all(reader.stdout.readline().strip() == "ready" for reader in readers.values())
        result = run_pipeline()
    finally:
        stop.touch()
        for reader in readers.values():
            reader.wait(timeout=60)
    assert result.success, failure_lines(result.all_events, world.published)
    assert PUBLISHED in materialized(result)
    assert ledger(world, result.run_id)["usage"] == "passed"
    with duckdb.connect(str(world.published), read_only=True) as con:
        (events_after,) = con.execute("select sum(events) from marts.fct_tool_usage_daily").fetchall()[0]
    assert events_after == events_before + 50

    held, polled = (json.loads((tmp_path / f"{mode}.json").read_text()) for mode in ("hold", "poll"))
    assert held["errors"] == [] and polled["errors"] == [] and polled["polls"] > 1
    total = "sum(fct_tool_usage_daily.events)"
    # The connection held through the run kept reading the old marts, whole.
    assert len(held["states"]) == 1 and held["last"][total] == events_before
    old = held["last"]
    # A reader arriving at any moment saw the old marts or the new ones, never a mix or a gap.
    new = polled["last"]
    assert new[total] == events_after
    assert all(json.loads(state) in (old, new) for state in polled["states"])
    assert fingerprint(world.published.parent) != before


def test_a_removed_file_takes_its_unvalidated_rows_with_it(world, capsys):
    """A file whose batch failed a gate, then removed by the user: the next run passes."""
    good, bad = _usage_lines(world.demo / "seeds" / "roster.csv", world.demo / "seeds" / "tools.csv")
    extra = world.demo / "landing" / "usage" / "events-2026-11-removed.jsonl"
    extra.write_text("\n".join(line for pair in zip(good, bad, strict=True) for line in pair) + "\n")
    before = fingerprint(world.published.parent)

    assert main(["run"]) == 1  # the quarantine gate stops it
    capsys.readouterr()
    with duckdb.connect(str(world.warehouse), read_only=True) as con:
        landed = con.execute(
            "select count(*) from raw.usage_events where _source_file = 'usage/events-2026-11-removed.jsonl'"
        ).fetchall()
        assert landed == [(50,)]

    extra.unlink()
    assert main(["run"]) == 0
    err = capsys.readouterr().err
    assert (
        "usage/events-2026-11-removed.jsonl is gone from the landing folder: its 50 rows no gate had "
        "passed and 50 quarantined records were removed" in err
    )
    with duckdb.connect(str(world.warehouse), read_only=True) as con:
        left = con.execute(
            "select (select count(*) from raw.usage_events where _source_file = $f),"
            " (select count(*) from raw.rejected_records where starts_with(locator, $f || ':')),"
            " (select count(*) from raw.loaded_files where path = $f)",
            {"f": "usage/events-2026-11-removed.jsonl"},
        ).fetchall()
    assert left == [(0, 0, 0)]
    assert fingerprint(world.published.parent) != before  # the good run published
