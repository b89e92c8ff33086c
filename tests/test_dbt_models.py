"""The dbt project, for real: `dbt build` on a small warehouse in the sources' own formats.

tests/dbt_fixtures/build_fixture_warehouse.py lands hand-made Jira, GitHub,
Linear, Okta, usage-log and survey records in the raw layer;
tests/dbt_fixtures/seeds/ describes the organisation. Every expected number
below is worked out by hand from those fixtures (see the fixture's docstring).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
PROJECT_DIR = REPO_ROOT / "dbt_project"
FIXTURES = Path(__file__).resolve().parent / "dbt_fixtures"
SEEDS_DIR = FIXTURES / "seeds"

sys.path.insert(0, str(FIXTURES))
from build_fixture_warehouse import build, land_later  # noqa: E402


def _dbt_executable() -> str:
    beside_python = Path(sys.executable).with_name("dbt")
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("dbt")
    if found is None:
        pytest.skip("dbt is not installed")
    return found


def run_dbt(
    args: list[str], warehouse: Path, work_dir: Path, seeds_dir: Path = SEEDS_DIR
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "PRODUCTOPS_WAREHOUSE": str(warehouse),
        "PRODUCTOPS_SEEDS_DIR": str(seeds_dir),
    }
    for name in ("PRODUCTOPS_SALT", "PRODUCTOPS_ANONYMITY_THRESHOLD", "PRODUCTOPS_AS_OF"):
        env.pop(name, None)
    return subprocess.run(
        [
            _dbt_executable(),
            *args,
            "--project-dir",
            str(PROJECT_DIR),
            "--profiles-dir",
            str(PROJECT_DIR),
            "--target-path",
            str(work_dir / "target"),
            "--log-path",
            str(work_dir / "logs"),
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="session")
def seed_bytes() -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(SEEDS_DIR.glob("*.csv"))}


@pytest.fixture(scope="session")
def dbt_work_dir(tmp_path_factory, seed_bytes) -> Path:
    """`dbt build` on the fixture warehouse: seeds, models, data and unit tests."""
    work_dir = tmp_path_factory.mktemp("dbt")
    warehouse = build(work_dir / "productops.duckdb")
    result = run_dbt(["build"], warehouse, work_dir)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-4000:]
    return work_dir


@pytest.fixture(scope="session")
def built_warehouse(dbt_work_dir) -> Path:
    return dbt_work_dir / "productops.duckdb"


@pytest.fixture(scope="session")
def manifest(dbt_work_dir) -> dict:
    return json.loads((dbt_work_dir / "target" / "manifest.json").read_text())


@pytest.fixture(scope="session")
def con(built_warehouse):
    connection = duckdb.connect(str(built_warehouse), read_only=True)
    yield connection
    connection.close()


def one(con, sql: str, *params):
    cursor = con.execute(sql, list(params))
    names = [column[0] for column in cursor.description]
    rows = cursor.fetchall()
    assert len(rows) == 1, f"expected one row, got {len(rows)}: {sql}"
    return dict(zip(names, rows[0], strict=True))


def item(con, key: str) -> dict:
    return one(con, "select * from marts.fct_work_items where work_item_key = ?", key)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# ------------------------------------------------------------------ the build


def test_every_public_mart_is_built(con):
    tables = {
        row[0]
        for row in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
    }
    assert tables == {
        "dim_teams",
        "dim_people",
        "dim_tools",
        "fct_work_items",
        "fct_status_changes",
        "fct_tool_usage_daily",
        "usage_unmatched_daily",
        "fct_survey_responses",
        "fct_improvement_actions",
        "delivery_weekly",
        "adoption_weekly",
        "satisfaction_by_wave",
        "survey_items_by_wave",
        "improvement_monthly",
        "team_scorecard_monthly",
        "sprint_predictability",
        "adoption_monthly",
        "tool_adoption_by_team",
        "tool_adoption",
        "wip_aging",
        "kpi_status",
        "kpi_alerts",
        "improvement_impact",
    }
    schemas = {
        row[0]
        for row in con.execute("select distinct table_schema from information_schema.tables").fetchall()
    }
    assert {"staging", "intermediate", "marts", "seeds"} <= schemas
    assert not any(schema.startswith("main_") for schema in schemas)


def test_the_build_leaves_the_seed_files_alone(built_warehouse, seed_bytes):
    # dbt writes a seed's runtime SQL under target/run/<seed path>; for a seed
    # directory outside the project that path is the CSV itself.
    after = {path.name: path.read_bytes() for path in sorted(SEEDS_DIR.glob("*.csv"))}
    assert after == seed_bytes


def test_no_email_reaches_the_marts(con):
    columns = con.execute(
        "select table_name, column_name from information_schema.columns"
        " where table_schema = 'marts' and data_type = 'VARCHAR'"
    ).fetchall()
    for table, column in columns:
        hits = con.execute(f"select count(*) from marts.{table} where \"{column}\" like '%@%'").fetchone()[0]
        assert hits == 0, f"marts.{table}.{column} holds an email"


# ------------------------------------------------------------- work items


def test_reopened_jira_item_lead_and_cycle_time_across_dst(con):
    pay1 = item(con, "PAY-1")
    # created 03-04 09:00 +0100, last done 04-02 12:00 +0200 (after the reopen)
    assert pay1["resolved_at"] == utc(2024, 4, 2, 10)
    assert pay1["started_at"] == utc(2024, 3, 5, 9)
    assert pay1["lead_time_hours"] == pytest.approx(698.0)
    assert pay1["cycle_time_hours"] == pytest.approx(673.0)
    assert pay1["reopen_count"] == 1
    assert pay1["active_time_hours"] == pytest.approx(48.0 + 601.0)
    assert pay1["flow_efficiency"] == pytest.approx(649.0 / 673.0)
    assert pay1["is_on_time"] is True
    assert pay1["team_id"] == "payments"
    assert pay1["status_category"] == "done"


def test_on_time_uses_the_team_time_zone(con):
    # 04-04 22:30 UTC is already 04-05 in Paris: late, though on time by UTC date
    pay2 = item(con, "PAY-2")
    assert pay2["due_date"] == date(2024, 4, 4)
    assert pay2["is_on_time"] is False
    assert pay2["lead_time_hours"] == pytest.approx(254.5)
    assert pay2["cycle_time_hours"] == pytest.approx(230.5)
    # Blocked counts as todo in project PAY (status mapping), so it is not active time
    assert pay2["active_time_hours"] == pytest.approx(48.0 + 86.5)
    # 03-09 03:00 UTC is still 03-08 in New York: on time, though late by UTC date
    web1 = item(con, "acme/web#1")
    assert web1["is_on_time"] is True
    assert web1["lead_time_hours"] == pytest.approx(113.0)
    assert web1["cycle_time_hours"] == pytest.approx(89.0)


def test_canceled_items_have_no_lead_or_cycle_time(con):
    for key in ("PAY-3", "acme/web#3"):
        canceled = item(con, key)
        assert canceled["is_canceled"] is True
        assert canceled["status_category"] == "done"
        assert canceled["lead_time_hours"] is None
        assert canceled["cycle_time_hours"] is None
        assert canceled["is_on_time"] is None


def test_github_history_rebuilt_from_events(con):
    web2 = item(con, "acme/web#2")
    # labelled "In Progress" 03-06, closed 03-07, reopened unassigned (→ todo), closed 03-13
    assert web2["reopen_count"] == 1
    assert web2["lead_time_hours"] == pytest.approx(192.0)
    assert web2["cycle_time_hours"] == pytest.approx(168.0)
    assert web2["active_time_hours"] == pytest.approx(24.0)
    changes = con.execute(
        "select from_status, to_status, to_category from marts.fct_status_changes"
        " where source = 'github' and work_item_id = '5002' order by sequence_number"
    ).fetchall()
    assert changes == [
        ("open", "in_progress_label", "in_progress"),
        ("in_progress_label", "closed", "done"),
        ("closed", "open", "todo"),
        ("open", "closed", "done"),
    ]
    assert item(con, "acme/web#4")["status_category"] == "in_progress"  # assigned, still open


def test_pull_requests_and_deleted_issues_are_not_work_items(con):
    keys = {row[0] for row in con.execute("select work_item_key from marts.fct_work_items").fetchall()}
    assert "acme/web#5" not in keys  # a pull request returned by the issues endpoint
    assert "PAY-6" not in keys  # deleted in Jira
    assert len(keys) == 14


def test_jira_history_is_read_by_status_id_and_ordered_by_numeric_id(con):
    renamed = one(
        con,
        "select from_status, from_status_name, to_status, to_status_name, to_category"
        " from marts.fct_status_changes where work_item_id = '10102' and sequence_number = 1",
    )
    # the changelog says "Code Review"; status 10002 is called "In Review" now
    assert renamed == {
        "from_status": "10000",
        "from_status_name": "To Do",
        "to_status": "10002",
        "to_status_name": "In Review",
        "to_category": "in_progress",
    }
    ordered = con.execute(
        "select change_id from marts.fct_status_changes where work_item_id = '10105' order by sequence_number"
    ).fetchall()
    assert ordered == [("9999:1",), ("10000:1",)]  # same instant: 9999 before 10000


def test_team_attribution(con):
    # OPS is owned by nobody: Bob's team on the resolution day (he moved on 03-15),
    # found through his Jira account id because his email is hidden
    assert item(con, "OPS-1")["team_id"] == "platform"
    assert item(con, "OPS-1")["team_attribution"] == "assignee_at_resolution"
    assert item(con, "OPS-3")["team_attribution"] == "assignee_now"
    unassigned = item(con, "OPS-2")
    assert unassigned["team_id"] is None and unassigned["team_attribution"] is None
    assert item(con, "acme/tools#1")["team_id"] == "payments"  # GitHub login → roster
    assert item(con, "ENG-1")["team_id"] == "payments"  # Linear assignee email


# ----------------------------------------------------------------- delivery


def test_delivery_weekly(con):
    week = one(
        con, "select * from marts.delivery_weekly where team_id = 'payments' and week_start = '2024-04-01'"
    )
    assert week["throughput"] == 2
    assert week["lead_time_p50_hours"] == pytest.approx((698.0 + 254.5) / 2)
    assert week["lead_time_p85_hours"] == pytest.approx(254.5 + 0.85 * (698.0 - 254.5))
    assert week["cycle_time_p50_hours"] == pytest.approx((673.0 + 230.5) / 2)
    assert week["due_items"] == 2 and week["on_time_rate"] == pytest.approx(0.5)
    assert week["wip_end"] == 1
    # PAY-2 sat in Blocked (todo for PAY) over the end of that week
    before = one(
        con, "select * from marts.delivery_weekly where team_id = 'payments' and week_start = '2024-03-25'"
    )
    assert before["wip_end"] == 2
    march = one(
        con, "select * from marts.delivery_weekly where team_id = 'payments' and week_start = '2024-03-11'"
    )
    assert march["throughput"] == 2 and march["canceled_items"] == 1
    assert march["lead_time_p50_hours"] == pytest.approx(108.0)


def sprint(con, sprint_id: str) -> dict:
    return one(con, "select * from marts.sprint_predictability where sprint_id = ?", sprint_id)


def test_sprint_commitment_is_rebuilt_from_the_sprint_field_history(con):
    spells = con.execute(
        "select issue_id, sprint_id, joined_at, left_at from intermediate.int_jira__sprint_memberships"
        " order by issue_id, sprint_id, spell_number"
    ).fetchall()
    assert spells == [
        # PAY-1: joined before Sprint 1 started (09:00 UTC < 10:00), carried over at its completion
        ("10101", "101", utc(2024, 3, 4, 9), None),
        ("10101", "102", utc(2024, 3, 18, 9, 30), None),
        ("10102", "102", utc(2024, 3, 26, 9), None),
        ("10102", "103", utc(2024, 4, 3, 9), None),
        ("10103", "101", utc(2024, 3, 11, 12), None),
        # PAY-4 was taken out of Sprint 2 on 03-28 (10:00 +0100)
        ("10104", "102", utc(2024, 3, 18, 8, 30), utc(2024, 3, 28, 9)),
        # PAY-5 was created in Sprint 1: no history item, a member since its creation
        ("10105", "101", utc(2024, 3, 6, 8), None),
    ]  # PAY-6 (deleted) is gone


def test_sprint_predictability(con):
    first = sprint(con, "101")
    assert (first["team_id"], first["project_key"], first["is_closed"]) == ("payments", "PAY", True)
    # PAY-1 committed but reopened before the end; PAY-3 (won't do) and PAY-5 (done) added
    assert (first["committed_items"], first["committed_completed_items"]) == (1, 0)
    assert (first["scope_added_items"], first["scope_added_completed_items"]) == (2, 1)
    assert (first["canceled_items"], first["unfinished_items"], first["removed_items"]) == (1, 1, 0)
    assert first["planning_accuracy"] == pytest.approx(0.0)
    assert first["scope_added_rate"] == pytest.approx(2.0)
    # closed late (04-03): PAY-1, done 04-02, counts; PAY-4 was taken out; PAY-2 was added
    second = sprint(con, "102")
    assert second["measured_at"] == utc(2024, 4, 3, 9)
    assert (second["committed_items"], second["committed_completed_items"]) == (2, 1)
    assert (second["removed_items"], second["scope_added_items"], second["unfinished_items"]) == (1, 1, 1)
    assert second["planning_accuracy"] == pytest.approx(0.5)
    # still active, judged at its planned end (past): PAY-2, carried over, done 04-04
    third = sprint(con, "103")
    assert third["is_closed"] is False and third["measured_at"] == utc(2024, 4, 17, 10)
    assert (third["committed_items"], third["completed_items"]) == (1, 1)
    assert third["planning_accuracy"] == pytest.approx(1.0)


# ------------------------------------------------------------------ adoption


def test_tool_usage_daily(con):
    total = con.execute("select count(*) from marts.fct_tool_usage_daily").fetchone()[0]
    assert total == 7  # failed SSO, other apps, other events, unknown tools and strangers are out
    alice_figma = one(
        con,
        "select u.* from marts.fct_tool_usage_daily as u"
        " where u.tool_id = 'figma' and u.usage_date = '2024-03-05'",
    )
    assert (alice_figma["events"], alice_figma["sso_events"], alice_figma["log_events"]) == (3, 2, 1)
    # 23:30 UTC on 03-13 counts on 03-13, for Bob's team that day (payments)
    bob = one(
        con, "select * from marts.fct_tool_usage_daily where tool_id = 'figma' and usage_date = '2024-03-13'"
    )
    assert bob["team_id"] == "payments"


def test_unmatched_usage_identities_are_counted_not_named(con):
    # anon-7f3c's two Cursor events (usage log) and the contractor's Figma SSO, both
    # on 2024-03-06; every other use is by someone on the roster.
    rows = con.execute(
        "select tool_id, cast(usage_date as varchar), unmatched_identities, unmatched_events,"
        " log_events, sso_events from marts.usage_unmatched_daily order by 1, 2"
    ).fetchall()
    assert rows == [("cursor", "2024-03-06", 1, 2, 2, 0), ("figma", "2024-03-06", 1, 1, 0, 1)]
    # …and they count for nobody in the adoption marts
    assert con.execute(
        "select count(*) from marts.fct_tool_usage_daily"
        " where tool_id = 'cursor' and usage_date = '2024-03-06'"
    ).fetchone() == (1,)  # Erin's use only


def test_adoption_weekly(con):
    week = one(
        con,
        "select * from marts.adoption_weekly"
        " where team_id = 'payments' and tool_id = 'cursor' and week_start = '2024-03-04'",
    )
    assert (week["active_users"], week["headcount"]) == (2, 6)
    assert week["adoption_rate"] == pytest.approx(2 / 6)


def test_adoption_monthly_stickiness(con):
    cursor = one(
        con,
        "select * from marts.adoption_monthly"
        " where team_id = 'payments' and tool_id = 'cursor' and month_start = '2024-03-01'",
    )
    # usage data ends on 03-13: 13 days observed; Alice and Erin used it on one day each
    assert (cursor["observed_days"], cursor["monthly_active_users"], cursor["headcount"]) == (13, 2, 7)
    assert cursor["avg_daily_active_users"] == pytest.approx(2 / 13)
    assert cursor["stickiness"] == pytest.approx(1 / 13)
    assert cursor["adoption_rate"] == pytest.approx(2 / 7)
    unused = one(
        con,
        "select * from marts.adoption_monthly"
        " where team_id = 'platform' and tool_id = 'figma' and month_start = '2024-03-01'",
    )
    assert unused["monthly_active_users"] == 0 and unused["stickiness"] is None


def test_time_to_adoption(con):
    # Carol is one of platform's two people in the rollout week of Cursor: 50 % at once
    reached = one(
        con,
        "select * from marts.tool_adoption_by_team where team_id = 'platform' and tool_id = 'cursor'",
    )
    assert reached["has_reached_adoption"] is True
    assert (reached["adoption_week_start"], reached["days_to_adoption"], reached["weeks_to_adoption"]) == (
        date(2024, 3, 4),
        0,
        0,
    )
    # Bob joined on 03-15: three people that week, Dave alone used it
    assert reached["latest_adoption_rate"] == pytest.approx(1 / 3)
    payments = one(
        con,
        "select * from marts.tool_adoption_by_team where team_id = 'payments' and tool_id = 'cursor'",
    )
    assert payments["has_reached_adoption"] is False and payments["days_to_adoption"] is None
    assert payments["peak_adoption_rate"] == pytest.approx(2 / 6)
    organisation = one(con, "select * from marts.tool_adoption where tool_id = 'cursor'")
    # 3 of the 8 people on a roster in the rollout week; then Dave of 9 (Judy joined)
    assert organisation["has_reached_adoption"] is False
    assert organisation["peak_adoption_rate"] == pytest.approx(3 / 8)
    assert organisation["latest_adoption_rate"] == pytest.approx(1 / 9)
    assert (organisation["teams_observed"], organisation["teams_adopted"]) == (2, 1)


# -------------------------------------------------------------- satisfaction


def test_survey_responses_are_scored_and_matched_to_teams(con):
    keys = {row[0] for row in con.execute("select response_key from marts.fct_survey_responses").fetchall()}
    assert len(keys) == 10 and "resp-02" in keys
    r3 = one(con, "select * from marts.fct_survey_responses where response_key = 'resp-04'")
    assert r3["team_id"] == "payments"  # " Payments " matched case-insensitively
    assert r3["satisfaction_score"] == pytest.approx(37.5)
    assert r3["wave_date"] == date(2024, 3, 20)  # first submission of the wave
    assert (
        one(con, "select team_id from marts.fct_survey_responses where response_key = 'resp-09'")["team_id"]
        is None
    )


def test_satisfaction_by_wave_and_suppression(con):
    payments = one(
        con, "select * from marts.satisfaction_by_wave where team_id = 'payments' and survey_wave = '2024-Q1'"
    )
    assert payments["respondents"] == 5  # exactly the threshold: shown
    assert payments["is_suppressed"] is False
    assert payments["headcount"] == 6
    assert payments["response_rate"] == pytest.approx(5 / 6)
    assert payments["satisfaction_score"] == pytest.approx(62.5)
    assert payments["enps"] == pytest.approx(25.0)  # (2 promoters − 1 detractor) / 4 answers
    assert payments["survey_id"] == "pulse"
    platform = one(
        con, "select * from marts.satisfaction_by_wave where team_id = 'platform' and survey_wave = '2024-Q1'"
    )
    assert platform["respondents"] == 2 and platform["is_suppressed"] is True
    assert platform["satisfaction_score"] is None and platform["enps"] is None


def test_survey_items_by_wave_means_per_team_with_the_same_suppression(con):
    items = {
        (team, item): (respondents, answers, mean, suppressed)
        for team, item, respondents, answers, mean, suppressed in con.execute(
            "select team_id, item_id, respondents, answers, mean, is_suppressed"
            " from marts.survey_items_by_wave where survey_id = 'pulse' and survey_wave = '2024-Q1'"
        ).fetchall()
    }
    # payments: 5 respondents; workload 5, 3, 2, 4 and one blank; tools 4, 3, 4 and two blanks
    assert items[("payments", "workload")] == (5, 4, pytest.approx(3.5), False)
    assert items[("payments", "tools")] == (5, 3, pytest.approx(11 / 3), False)
    # platform: 2 respondents, under the threshold of 5
    assert items[("platform", "workload")] == (2, 2, None, True)
    assert ("payments", "recommend") not in items  # eNPS lives in satisfaction_by_wave


# --------------------------------------------------------------- improvement


def test_improvement_actions(con):
    actions = {
        row[0]: row[1]
        for row in con.execute(
            "select work_item_key, days_to_close from marts.fct_improvement_actions"
        ).fetchall()
    }
    assert actions == {"PAY-5": pytest.approx(7.0), "acme/tools#1": pytest.approx(2.0), "OPS-3": None}
    march = one(
        con,
        "select * from marts.improvement_monthly where team_id = 'payments' and month_start = '2024-03-01'",
    )
    assert (march["actions_opened"], march["actions_closed"]) == (2, 2)
    assert march["completion_rate"] == pytest.approx(1.0)
    assert march["median_days_to_close"] == pytest.approx(4.5)


def test_open_action_age(con):
    platform = one(
        con,
        "select * from marts.improvement_monthly where team_id = 'platform' and month_start = '2024-03-01'",
    )
    # OPS-3, opened 03-12 10:00 UTC, still open at 04-01 00:00: 19 days 14 hours
    assert platform["open_actions_end"] == 1
    assert platform["open_action_age_p50_days"] == pytest.approx(19 + 14 / 24)
    assert platform["open_action_age_max_days"] == pytest.approx(19 + 14 / 24)
    ops3 = one(con, "select open_age_days from marts.fct_improvement_actions where work_item_key = 'OPS-3'")
    assert ops3["open_age_days"] > 900  # measured now (the run), not at a month end


# ------------------------------------------- partial periods and roll-ups

# Each periodic mart: its period column and the period's length.
PERIODIC_MARTS = {
    "delivery_weekly": ("week_start", timedelta(days=7)),
    "adoption_weekly": ("week_start", timedelta(days=7)),
    "adoption_monthly": ("month_start", None),
    "improvement_monthly": ("month_start", None),
    "team_scorecard_monthly": ("month_start", None),
    "satisfaction_by_wave": ("wave_date", timedelta(days=14)),  # var survey_wave_days
}


def _period_end(start: date, length: timedelta | None) -> date:
    if length is not None:
        return start + length
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)


@pytest.mark.parametrize("mart", sorted(PERIODIC_MARTS))
def test_is_complete_is_false_only_for_the_period_under_way(con, mart):
    """The fixture build ran without as_of_date: the as-of date is the day of the build."""
    column, length = PERIODIC_MARTS[mart]
    today = con.execute("select current_date").fetchall()[0][0]
    rows = con.execute(f"select {column}, is_complete from marts.{mart}").fetchall()
    assert rows, mart
    for start, is_complete in rows:
        assert is_complete is (_period_end(start, length) <= today), (mart, start)


def test_the_month_under_way_is_marked_partial(con):
    # OPS-3 is still open, so improvement_monthly runs to the current month: the only partial one
    partial = con.execute(
        "select distinct month_start from marts.improvement_monthly where not is_complete"
    ).fetchall()
    today = con.execute("select current_date").fetchall()[0][0]
    assert partial == [(today.replace(day=1),)]


def test_delivery_and_improvement_roll_ups_pool_every_team(con):
    for mart, period, counts in (
        ("delivery_weekly", "week_start", ["created_items", "throughput", "canceled_items", "wip_end"]),
        ("improvement_monthly", "month_start", ["actions_opened", "actions_closed", "open_actions_end"]),
    ):
        sums = ", ".join(
            f"sum({c}) filter (where team_id <> '__all__') = sum({c}) filter (where team_id = '__all__')"
            for c in counts
        )
        rows = con.execute(
            f"select {period}, count(*) filter (where team_id = '__all__'), {sums}"
            f" from marts.{mart} group by {period}"
        ).fetchall()
        assert rows and all(row[1] == 1 and all(row[2:]) for row in rows), mart
    # week of 2024-04-01: PAY-1 (lead 698 h) and PAY-2 (254.5 h) for payments, nothing else resolved
    org = one(
        con, "select * from marts.delivery_weekly where team_id = '__all__' and week_start = '2024-04-01'"
    )
    assert org["throughput"] == 2 and org["lead_time_p50_hours"] == pytest.approx((698 + 254.5) / 2)


def test_satisfaction_roll_up_never_reveals_a_suppressed_team(con):
    org = one(
        con, "select * from marts.satisfaction_by_wave where team_id = '__all__' and survey_wave = '2024-Q1'"
    )
    # counts of every team (payments 5 of 6, platform 2 of 3); scores of payments only
    assert (org["respondents"], org["headcount"], org["scored_respondents"]) == (7, 9, 5)
    assert org["satisfaction_score"] == pytest.approx(62.5) and org["enps"] == pytest.approx(25.0)
    # 2024-Q2: only suppressed teams answered, so the organisation is suppressed too
    q2 = one(
        con, "select * from marts.satisfaction_by_wave where team_id = '__all__' and survey_wave = '2024-Q2'"
    )
    assert q2["is_suppressed"] is True and q2["satisfaction_score"] is None and q2["enps"] is None
    # organisation minus the shown teams leaves no scored answer to recover
    leftover = con.execute(
        """
        select org.survey_wave, org.scored_respondents - coalesce(sum(team.scored_respondents), 0)
        from marts.satisfaction_by_wave as org
        left join marts.satisfaction_by_wave as team
            on team.survey_wave = org.survey_wave and team.team_id <> '__all__' and not team.is_suppressed
        where org.team_id = '__all__'
        group by org.survey_wave, org.scored_respondents
        """
    ).fetchall()
    assert leftover and all(rest == 0 for _, rest in leftover)


def test_the_scorecard_puts_the_organisation_beside_the_teams(con):
    # one organisation row a month whose throughput is the teams' sum: nothing counted twice
    months = con.execute(
        """
        select month_start,
            count(*) filter (where team_id = '__all__'),
            sum(throughput) filter (where team_id <> '__all__'),
            sum(throughput) filter (where team_id = '__all__')
        from marts.team_scorecard_monthly group by month_start
        """
    ).fetchall()
    assert months and all(n == 1 and teams == org for _, n, teams, org in months)
    april = one(
        con,
        "select * from marts.team_scorecard_monthly where team_id = '__all__' and month_start = '2024-04-01'",
    )
    # the Q1 wave's organisation row: only payments is shown
    assert april["survey_wave"] == "2024-Q1" and april["satisfaction_score"] == pytest.approx(62.5)
    assert con.execute("select count(*) from marts.dim_teams where team_id = '__all__'").fetchall() == [(0,)]


def test_wip_aging_on_the_fixture(con):
    rows = {
        row[0]: row[1:]
        for row in con.execute(
            "select work_item_key, status_category, cycle_time_sample_size, cycle_time_p50_days, is_over_p85"
            " from marts.wip_aging"
        ).fetchall()
    }
    open_items = con.execute(
        "select work_item_key from marts.fct_work_items"
        " where status_category <> 'done' and team_id is not null"
    ).fetchall()
    assert set(rows) == {key for (key,) in open_items}
    # payments finished 4 items that started: cycle times 0, 2, 9.604…, 28.04… days → median (2 + 9.604…) / 2
    assert rows["PAY-4"][1] == 4
    assert rows["PAY-4"][2] == pytest.approx((2 + 9 + 14.5 / 24) / 2)


# ----------------------------------------------------------------- scorecard


def test_team_scorecard_monthly(con):
    april = one(
        con,
        "select * from marts.team_scorecard_monthly"
        " where team_id = 'payments' and month_start = '2024-04-01'",
    )
    assert april["throughput"] == 2 and april["throughput_change"] == -1
    assert april["lead_time_p50_hours"] == pytest.approx(476.25)
    # the 2024-Q2 wave has 2 payments respondents (suppressed): Q1 still stands
    assert april["survey_wave"] == "2024-Q1"
    assert april["satisfaction_score"] == pytest.approx(62.5)
    assert april["enps"] == pytest.approx(25.0) and april["enps_change"] == pytest.approx(0.0)
    march = one(
        con,
        "select * from marts.team_scorecard_monthly"
        " where team_id = 'payments' and month_start = '2024-03-01'",
    )
    assert march["throughput"] == 3
    assert march["completion_rate"] == pytest.approx(1.0)
    assert march["adoption_rate"] == pytest.approx((2 / 6 + 0 / 7 + 1 / 6 + 2 / 7) / 4)
    # Sprint 1 closed in March (0 of 1), Sprint 2 in April (1 of 2); Sprint 3 is still open
    assert (march["sprints_closed"], march["planning_accuracy"]) == (1, pytest.approx(0.0))
    assert (april["sprints_closed"], april["planning_accuracy"]) == (1, pytest.approx(0.5))
    assert april["planning_accuracy_change"] == pytest.approx(0.5)
    assert march["stickiness"] == pytest.approx(1 / 13)  # Cursor and Figma both 1 / 13
    assert march["response_rate"] == pytest.approx(5 / 6)
    platform = one(
        con,
        "select * from marts.team_scorecard_monthly"
        " where team_id = 'platform' and month_start = '2024-04-01'",
    )
    # OPS-3 is still open: one month older
    assert (platform["open_actions_end"], platform["open_actions_end_change"]) == (1, 0)
    assert platform["open_action_age_p50_days"] == pytest.approx(49 + 14 / 24)
    assert platform["open_action_age_p50_days_change"] == pytest.approx(30.0)


def test_dimensions(con):
    teams = {
        row[0]: row[1] for row in con.execute("select team_id, headcount from marts.dim_teams").fetchall()
    }
    assert teams == {"payments": 6, "platform": 3, "mobile": 0}
    people = con.execute("select count(*), count(team_id) from marts.dim_people").fetchone()
    assert people == (10, 9)  # Frank has left


# ------------------------------------------------------------ the status gate


def test_an_unmapped_status_fails_the_build(built_warehouse, tmp_path):
    warehouse = tmp_path / "unmapped.duckdb"
    shutil.copy(built_warehouse, warehouse)
    connection = duckdb.connect(str(warehouse))
    try:
        connection.execute(
            "insert into raw.jira_changelogs values"
            " ('29999', '10202', timestamptz '2024-03-06 10:00:00+00', ?,"
            " timestamptz '2024-04-10 06:00:00+00', 'run-2')",
            [
                '{"id": "29999", "created": "2024-03-06T10:00:00.000+0000", "items": [{"field": "status",'
                ' "fieldtype": "jira", "fieldId": "status", "from": "10000", "fromString": "To Do",'
                ' "to": "77777", "toString": "Triage"}]}'
            ],
        )
    finally:
        connection.close()
    result = run_dbt(
        [
            "build",
            "--select",
            "+int_status_categories",
            "assert_every_status_is_mapped",
            "--exclude",
            "test_type:unit",
            "resource_type:seed",
        ],
        warehouse,
        tmp_path,
    )
    assert result.returncode != 0
    assert "FAIL 1 assert_every_status_is_mapped" in result.stdout


# ---------------------------------------------------- models a lead can trust

MART_PREFIX = "model.productops."


def marts(manifest: dict) -> dict[str, dict]:
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"].get("schema") == "marts"
    }


def test_every_mart_has_an_enforced_contract_a_grain_and_described_columns(manifest):
    models = marts(manifest)
    assert len(models) == 23
    for name, node in models.items():
        assert node["config"]["contract"]["enforced"] is True, name
        assert node["description"].startswith("Grain: one row per"), name
        assert node["columns"], name
        for column, spec in node["columns"].items():
            assert spec.get("data_type"), f"{name}.{column} has no data_type"
            assert len(spec.get("description", "")) > 5, f"{name}.{column} has no description"


def test_exposures_cover_the_scorecard_and_each_area(manifest):
    exposed = {
        exposure["name"]: {ref.removeprefix(MART_PREFIX) for ref in exposure["depends_on"]["nodes"]}
        for exposure in manifest["exposures"].values()
    }
    assert "team_scorecard_monthly" in exposed["team_scorecard"]
    for exposure, area_marts in {
        "delivery_dashboard": {"delivery_weekly", "sprint_predictability"},
        "adoption_dashboard": {
            "adoption_weekly",
            "adoption_monthly",
            "tool_adoption",
            "tool_adoption_by_team",
        },
        "satisfaction_dashboard": {"satisfaction_by_wave"},
        "improvement_dashboard": {"improvement_monthly", "fct_improvement_actions"},
    }.items():
        assert area_marts <= exposed[exposure], exposure
    assert set(marts(manifest)) <= exposed["published_warehouse"]


def test_metric_edge_cases_have_unit_tests(manifest):
    unit_tests = {
        test["name"]: test["model"] for test in manifest["unit_tests"].values() if "model" in test
    } or {test["name"]: test["depends_on"]["nodes"][0] for test in manifest["unit_tests"].values()}
    required = {
        "timings_reopened_and_canceled_items",  # reopened and canceled items
        "timings_never_started_and_across_daylight_saving",  # never in progress, DST
        "on_time_is_judged_in_the_team_time_zone",
        "team_follows_the_roster_on_the_resolution_day",  # roster change mid-period
        "adoption_weekly_roster_change_and_tool_without_users",  # roster change, tool without users
        "satisfaction_suppressed_under_the_threshold_only",  # exactly at and under the threshold
        "delivery_weekly_throughput_wip_and_percentiles",
        "sprint_commitment_completion_and_scope",
        "sprint_memberships_from_the_field_history",
        "adoption_monthly_stickiness_is_average_daily_over_monthly_active",
        "time_to_adoption_per_team",
        "time_to_adoption_organisation_wide",
        "improvement_completion_rate_and_open_action_age",
        "scorecard_headline_kpis_and_month_over_month_change",
        "delivery_weekly_organisation_rollup_and_partial_week",
        "satisfaction_organisation_rollup_after_suppression",
        "improvement_organisation_rollup_and_partial_month",
        "wip_aging_against_the_team_cycle_time_percentiles",
        "scorecard_organisation_row_pools_the_teams",
    }
    assert required <= set(unit_tests)


def test_dbt_docs_generate(built_warehouse, tmp_path):
    warehouse = tmp_path / "docs.duckdb"
    shutil.copy(built_warehouse, warehouse)
    result = run_dbt(["docs", "generate"], warehouse, tmp_path)
    assert result.returncode == 0, result.stdout[-4000:]
    catalog = json.loads((tmp_path / "target" / "catalog.json").read_text())
    scorecard = catalog["nodes"][MART_PREFIX + "team_scorecard_monthly"]
    assert "planning_accuracy_change" in scorecard["columns"]
    # descriptions travel with the tables (persist_docs), so BI tools see them too
    assert scorecard["columns"]["throughput"]["comment"].startswith("Delivery:")
    assert (tmp_path / "target" / "index.html").exists()


# ---------------------------------------------------------- incremental builds

OLDEST = datetime(2024, 3, 1, 6, tzinfo=UTC)
EARLIER = datetime(2024, 4, 1, 6, tzinfo=UTC)
LATER = datetime(2024, 4, 12, 6, tzinfo=UTC)
# Seeds and models, no tests (the incremental build below runs the data tests).
MODELS_ONLY = ["build", "--exclude", "test_type:unit", "test_type:data"]
# Columns that read the clock (age as of now): equal up to the seconds between two builds.
CLOCK_COLUMNS = {"fct_improvement_actions": {"open_age_days"}, "wip_aging": {"age_days", "is_over_p85"}}


def mart_differences(a: Path, b: Path) -> dict[str, int]:
    """Rows of each mart in one warehouse and not in the other (doubles to 1e-9)."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{a}' as a (read_only)")
        con.execute(f"attach '{b}' as b (read_only)")
        columns: dict[str, list[tuple[str, str]]] = {}
        for table, column, data_type in con.execute(
            "select table_name, column_name, data_type from duckdb_columns()"
            " where database_name = 'a' and schema_name = 'marts' order by table_name, column_index"
        ).fetchall():
            if column not in CLOCK_COLUMNS.get(table, set()):
                columns.setdefault(table, []).append((column, data_type))
        differences = {}
        for table, cols in columns.items():
            # sums in another order differ in the last bits
            select = ", ".join(f'round("{c}", 9)' if t == "DOUBLE" else f'"{c}"' for c, t in cols)
            count = con.execute(
                f"select (select count(*) from (select {select} from a.marts.{table}"
                f" except all select {select} from b.marts.{table}))"
                f" + (select count(*) from (select {select} from b.marts.{table}"
                f" except all select {select} from a.marts.{table}))"
            ).fetchall()[0][0]
            if count:
                differences[table] = count
        return differences
    finally:
        con.close()


def full_refresh_copy(warehouse: Path, work_dir: Path, seeds_dir: Path = SEEDS_DIR) -> Path:
    """A full refresh of a copy of ``warehouse``, built in its place so that dbt's
    partial parsing (keyed on the warehouse path) saves a full parse."""
    kept = work_dir / "kept.duckdb"
    refreshed = work_dir / "full_refresh.duckdb"
    shutil.copy(warehouse, kept)
    result = run_dbt(["run", "--full-refresh"], warehouse, work_dir, seeds_dir)
    assert result.returncode == 0, result.stdout[-8000:]
    shutil.move(warehouse, refreshed)
    shutil.move(kept, warehouse)
    return refreshed


def test_incremental_builds_equal_a_full_refresh(tmp_path):
    """Build, land more (new, changed, late, deleted rows), build incrementally: same
    marts as a full refresh; partitions nothing touched are not rebuilt. Then edit a
    seed: the models that depend on it rebuild themselves on the next run."""
    warehouse = build(tmp_path / "incremental.duckdb", loaded_at=EARLIER)
    # PAY-1 and the uses of 2024-03-06 were landed long before the rest: outside the
    # lookback window of the next run (the last load is always looked at again).
    connection = duckdb.connect(str(warehouse))
    try:
        for statement in (
            "update raw.jira_issues set _loaded_at = ? where issue_id = '10101'",
            "update raw.jira_changelogs set _loaded_at = ? where issue_id = '10101'",
            "update raw.usage_events set _loaded_at = ? where cast(occurred_at as date) = '2024-03-06'",
            "update raw.okta_system_log set _loaded_at = ? where cast(published_at as date) = '2024-03-06'",
        ):
            connection.execute(statement, [OLDEST])
    finally:
        connection.close()
    first = run_dbt(MODELS_ONLY, warehouse, tmp_path)
    assert first.returncode == 0, first.stdout[-8000:]
    # Sentinels in partitions the later load does not touch: a rebuild would erase them.
    connection = duckdb.connect(str(warehouse))
    try:
        connection.execute(
            "update marts.fct_status_changes set from_status_name = 'sentinel' where work_item_id = '10101'"
        )
        connection.execute(
            "update marts.fct_tool_usage_daily set log_events = 42 where usage_date = '2024-03-06'"
        )
    finally:
        connection.close()

    land_later(warehouse, LATER)
    incremental = run_dbt(["build", "--exclude", "test_type:unit"], warehouse, tmp_path)
    assert incremental.returncode == 0, incremental.stdout[-8000:]

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert con.execute(
            "select count(*) from marts.fct_status_changes where from_status_name = 'sentinel'"
        ).fetchall() == [(4,)]  # PAY-1's four status changes
        assert con.execute(
            "select log_events from marts.fct_tool_usage_daily where usage_date = '2024-03-06'"
        ).fetchall() == [(42,)]
        # what the later load brought is there, what it removed is gone
        assert con.execute(
            "select count(*) from marts.fct_status_changes where work_item_id = '10203'"
        ).fetchall() == [(0,)]  # OPS-3 deleted
        assert con.execute(
            "select status_category from marts.fct_work_items where work_item_key = 'PAY-4'"
        ).fetchall() == [("done",)]
        days = dict(
            con.execute(
                "select usage_date, count(*) from marts.fct_tool_usage_daily"
                " where tool_id = 'cursor' group by usage_date"
            ).fetchall()
        )
        assert days[date(2024, 3, 5)] == 2 and days[date(2024, 4, 11)] == 1  # late and new events
        assert date(2024, 3, 12) not in days  # its file came again, empty
        # Dave's use replaced Carol's: hers is kept, flagged, to recount the day
        assert con.execute(
            "select user_email, is_removed from intermediate.int_tool_usage_events"
            " where usage_date = '2024-03-07' order by user_email"
        ).fetchall() == [("carol@example.com", True), ("dave@example.com", False)]
        assert days[date(2024, 3, 7)] == 1
        assert con.execute(
            "select committed_items, scope_added_items from marts.sprint_predictability"
            " where sprint_id = '103'"
        ).fetchall() == [(1, 1)]  # PAY-7 created into Sprint 3
    finally:
        con.close()

    refreshed = full_refresh_copy(warehouse, tmp_path)
    # only the sentinels tell the two apart
    assert mart_differences(warehouse, refreshed) == {"fct_status_changes": 8, "fct_tool_usage_daily": 2}

    # An edited status mapping: Blocked is no longer todo in project PAY.
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS_DIR, seeds)
    mapping = seeds / "status_mapping.csv"
    mapping.write_text(mapping.read_text().replace("jira,PAY,*,10003,todo\n", ""))
    rebuilt = run_dbt(MODELS_ONLY, warehouse, tmp_path, seeds)
    assert rebuilt.returncode == 0, rebuilt.stdout[-8000:]
    refreshed = full_refresh_copy(warehouse, tmp_path, seeds)
    # the status history was rebuilt under the new rules; tool usage does not depend on them
    assert mart_differences(warehouse, refreshed) == {"fct_tool_usage_daily": 2}
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert con.execute(
            "select to_category from marts.fct_status_changes"
            " where work_item_id = '10102' and to_status = '10003'"
        ).fetchall() == [("in_progress",)]
    finally:
        con.close()


def test_roster_other_ids_are_read_lower_cased(con):
    ids = dict(
        con.execute(
            "select email, other_ids from intermediate.int_people__team_periods"
            " where email in ('alice@example.com', 'bob@example.com') group by all"
        ).fetchall()
    )
    assert ids["alice@example.com"] == ["u-alice", "alice-okta-id"]
    assert ids["bob@example.com"] == [""]  # none listed: an empty id, which matches nothing
