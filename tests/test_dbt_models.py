"""The dbt project, for real: `dbt build` on a small warehouse in the sources' own formats.

tests/dbt_fixtures/build_fixture_warehouse.py lands hand-made Jira, GitHub,
Linear, Okta, usage-log and survey records in the raw layer;
tests/dbt_fixtures/seeds/ describes the organisation. Every expected number
below is worked out by hand from those fixtures (see the fixture's docstring).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
PROJECT_DIR = REPO_ROOT / "dbt_project"
FIXTURES = Path(__file__).resolve().parent / "dbt_fixtures"
SEEDS_DIR = FIXTURES / "seeds"

sys.path.insert(0, str(FIXTURES))
from build_fixture_warehouse import build  # noqa: E402


def _dbt_executable() -> str:
    beside_python = Path(sys.executable).with_name("dbt")
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("dbt")
    if found is None:
        pytest.skip("dbt is not installed")
    return found


def run_dbt(args: list[str], warehouse: Path, work_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "PRODUCTOPS_WAREHOUSE": str(warehouse),
        "PRODUCTOPS_SEEDS_DIR": str(SEEDS_DIR),
    }
    for name in ("PRODUCTOPS_SALT", "PRODUCTOPS_ANONYMITY_THRESHOLD"):
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
def built_warehouse(tmp_path_factory, seed_bytes) -> Path:
    work_dir = tmp_path_factory.mktemp("dbt")
    warehouse = build(work_dir / "productops.duckdb")
    result = run_dbt(["build"], warehouse, work_dir)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-4000:]
    return warehouse


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
        "fct_survey_responses",
        "fct_improvement_actions",
        "delivery_weekly",
        "adoption_weekly",
        "satisfaction_by_wave",
        "improvement_monthly",
        "team_scorecard_monthly",
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


def test_adoption_weekly(con):
    week = one(
        con,
        "select * from marts.adoption_weekly"
        " where team_id = 'payments' and tool_id = 'cursor' and week_start = '2024-03-04'",
    )
    assert (week["active_users"], week["headcount"]) == (2, 6)
    assert week["adoption_rate"] == pytest.approx(2 / 6)


# -------------------------------------------------------------- satisfaction


def test_survey_responses_keep_the_last_per_respondent_and_wave(con):
    keys = {row[0] for row in con.execute("select response_key from marts.fct_survey_responses").fetchall()}
    assert "resp-01" not in keys and "resp-02" in keys
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
    platform = one(
        con, "select * from marts.satisfaction_by_wave where team_id = 'platform' and survey_wave = '2024-Q1'"
    )
    assert platform["respondents"] == 2 and platform["is_suppressed"] is True
    assert platform["satisfaction_score"] is None and platform["enps"] is None


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
