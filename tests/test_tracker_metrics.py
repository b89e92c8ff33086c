"""From the trackers' APIs to marts.fct_work_items, checked against numbers worked by hand.

The connectors land tests/tracker_fixtures.py's data from fake Jira, GitHub
and Linear servers on loopback into a temporary warehouse (two runs: the
second incremental, after an issue was deleted in Jira); then the real dbt
project builds on it. The expected hours are worked out in that module's
docstring, across the 2026 daylight-saving changes of Paris and New York.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from ingestion.config import load_settings
from ingestion.extract import land_github, land_jira, land_linear
from ingestion.loader import RawLoader
from tests import tracker_fixtures as fx
from tests.fake_trackers import FakeGitHub, FakeJira, FakeLinear, JiraIssue, Router

REPO_ROOT = Path(__file__).resolve().parents[1]
PROJECT_DIR = REPO_ROOT / "dbt_project"

SEEDS = {
    "teams.csv": """team_id,team_name,time_zone
payments,Payments,Europe/Paris
platform,Platform,America/New_York
growth,Growth,Europe/Berlin
""",
    "roster.csv": """email,team_id,role,valid_from,valid_to,github_login,jira_account_id
alice@example.com,payments,engineer,2025-01-01,,alice-gh,acc-alice
dave@example.com,platform,engineer,2025-01-01,,dave-gh,
erin@example.com,growth,engineer,2025-01-01,,,
""",
    "ownership.csv": """source,container,team_id
jira,PAY,payments
github,acme/web,platform
linear,ENG,growth
""",
    "tools.csv": """tool_id,tool_name,aliases,rollout_date
figma,Figma,Figma,2026-01-01
""",
    "status_mapping.csv": """source,project,issue_type,raw_status,status_category
jira,PAY,*,10003,todo
""",
    "improvement_labels.csv": """source,label,kpi
*,retro-action,
""",
    "kpi_targets.csv": "scope,kpi,direction,target,at_risk_band\n",
}


def dbt_executable() -> str:
    beside_python = Path(sys.executable).with_name("dbt")
    return str(beside_python) if beside_python.exists() else shutil.which("dbt") or "dbt"


def doomed_issue() -> JiraIssue:
    """PAY-4: landed by the first run, deleted in Jira before the second."""
    fields = dict(fx.jira_issues()[2].fields)
    fields.update(created="2026-03-20T09:00:00.000+0100", updated="2026-03-20T09:00:00.000+0100")
    fields["status"] = fx.jira_status("10000", "To Do", "new")
    return JiraIssue("10104", "PAY-4", fields, [])


@pytest.fixture(scope="module")
def warehouse(make_httpserver, tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("trackers")
    seeds = work / "seeds"
    seeds.mkdir()
    for name, text in SEEDS.items():
        (seeds / name).write_text(text)
    path = work / "productops.duckdb"

    make_httpserver.clear()  # handlers an earlier test left behind would answer first
    router = Router(make_httpserver)
    jira = FakeJira(router, statuses=fx.statuses(), issues=[*fx.jira_issues(), doomed_issue()])
    github = FakeGitHub(router, repo_ids={fx.REPO: fx.REPO_ID})
    github.issues[fx.REPO] = fx.github_issues()
    github.events[fx.REPO] = fx.github_events(github.issues[fx.REPO])
    FakeLinear(router, issues=fx.linear_issues())
    settings = load_settings(
        {
            "JIRA_BASE_URL": router.base_url,
            "JIRA_EMAIL": "bot@example.com",
            "JIRA_API_TOKEN": "jira-token-value",
            "JIRA_JQL": "project = PAY",
            "GITHUB_API_URL": router.base_url,
            "GITHUB_TOKEN": "ghp_token_value",
            "GITHUB_REPOS": fx.REPO,
            "LINEAR_API_URL": f"{router.base_url}/graphql",
            "LINEAR_API_KEY": "lin_api_key_value",
            "PRODUCTOPS_SALT": "test-salt",
            "PRODUCTOPS_WAREHOUSE": str(path),
            "PRODUCTOPS_SEEDS_DIR": str(seeds),
            "PRODUCTOPS_CONFIG": str(work / "none.toml"),
        }
    )
    try:
        with duckdb.connect(str(path)) as con:
            for run_id in ("run-1", "run-2"):
                loader = RawLoader(con, run_id)
                land_jira(loader, settings)
                land_github(loader, settings)
                land_linear(loader, settings)
                jira.issues.pop("10104", None)  # deleted between the runs
    finally:
        make_httpserver.clear()

    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "PRODUCTOPS_WAREHOUSE": str(path),
        "PRODUCTOPS_SEEDS_DIR": str(seeds),
        "PRODUCTOPS_SALT": "test-salt",
    }
    dirs = ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    dirs += ["--target-path", str(work / "target"), "--log-path", str(work / "logs")]
    result = subprocess.run(
        [dbt_executable(), "build", *dirs],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-4000:]
    return path


@pytest.fixture(scope="module")
def con(warehouse):
    connection = duckdb.connect(str(warehouse), read_only=True)
    yield connection
    connection.close()


def item(con, key: str) -> dict:
    cursor = con.execute("select * from marts.fct_work_items where work_item_key = ?", [key])
    names = [column[0] for column in cursor.description]
    found = cursor.fetchall()
    assert len(found) == 1, f"{key}: {len(found)} rows"
    return dict(zip(names, found[0], strict=True))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


TIMINGS = ("lead_time_hours", "cycle_time_hours", "active_time_hours", "reopen_count")


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        # Jira: across Paris's switch to summer time on 03-29 (a naive local
        # clock would give PAY-1 a lead time of 123 h).
        ("PAY-1", (122.0, 97.0, 50.0, 1)),
        ("PAY-2", (167.0, 143.0, 113.0, 0)),
        ("PAY-3", (None, None, None, 0)),
        # GitHub: across New York's switch on 03-08.
        ("acme/web#1", (72.0, 48.0, 48.0, 0)),
        ("acme/web#2", (96.0, 72.0, 24.0, 1)),
        ("acme/web#3", (24.0, None, 0.0, 0)),
        # Linear.
        ("ENG-1", (84.0, 60.0, 60.0, 0)),
        ("ENG-2", (None, None, None, 0)),
        ("ENG-3", (None, None, None, 0)),
    ],
)
def test_lead_cycle_active_hours_and_reopens(con, key, expected):
    row = item(con, key)
    assert tuple(row[name] for name in TIMINGS) == pytest.approx(expected)


def test_start_resolution_category_and_team(con):
    pay1 = item(con, "PAY-1")
    assert (pay1["started_at"], pay1["resolved_at"]) == (utc(2026, 3, 27, 9), utc(2026, 3, 31, 10))
    assert (pay1["status_category"], pay1["team_id"]) == ("done", "payments")
    pay3 = item(con, "PAY-3")
    assert (pay3["status_category"], pay3["started_at"], pay3["assignee_person_id"]) == (
        "in_progress",
        utc(2026, 3, 28, 10),
        None,
    )
    gh1 = item(con, "acme/web#1")
    assert (gh1["started_at"], gh1["team_id"]) == (utc(2026, 3, 7, 15), "platform")
    eng1 = item(con, "ENG-1")
    assert (eng1["started_at"], eng1["resolved_at"], eng1["team_id"]) == (
        utc(2026, 3, 28, 8),
        utc(2026, 3, 30, 20),
        "growth",
    )
    assert item(con, "ENG-3")["status_category"] == "in_progress"


def test_canceled_and_unknown_state_reasons(con):
    eng2 = item(con, "ENG-2")
    assert (eng2["is_canceled"], eng2["status_category"]) == (True, "done")
    gh3 = item(con, "acme/web#3")
    assert (gh3["resolution"], gh3["is_canceled"]) == ("superseded", False)


def test_on_time_judged_in_the_teams_zone(con):
    # PAY-2 was due 03-30 and done at 09:00 Paris time that day.
    assert item(con, "PAY-2")["is_on_time"] is True
    assert item(con, "PAY-1")["is_on_time"] is None


def test_renamed_status_is_read_by_id(con):
    changes = con.execute(
        """
        select to_status, to_status_name, to_category
        from marts.fct_status_changes
        where work_item_id = '10102' order by changed_at
        """
    ).fetchall()
    assert changes == [
        ("10002", "In Review", "in_progress"),
        ("10003", "Blocked", "todo"),
        ("10002", "In Review", "in_progress"),
        ("10001", "Done", "done"),
    ]


def test_pull_requests_trashed_and_deleted_items_stay_out_of_the_marts(con):
    keys = {row[0] for row in con.execute("select work_item_key from marts.fct_work_items").fetchall()}
    assert keys == {
        "PAY-1",
        "PAY-2",
        "PAY-3",
        "acme/web#1",
        "acme/web#2",
        "acme/web#3",
        "ENG-1",
        "ENG-2",
        "ENG-3",
    }
    # PAY-4 stays in raw, flagged with its deletion time.
    assert con.execute(
        "select is_deleted, deleted_at is not null, _run_id from raw.jira_issues where issue_key = 'PAY-4'"
    ).fetchall() == [(True, True, "run-1")]
