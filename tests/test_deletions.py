"""Deletion sweeps: items gone from the source are flagged in raw, only after a complete key list."""

from __future__ import annotations

import duckdb
import pytest

from ingestion.config import load_settings
from ingestion.deletions import sweep_deletions
from ingestion.extract import jira_session, land_github, land_jira, land_linear
from ingestion.loader import RawLoader
from ingestion.pages import SourceError
from ingestion.sources.jira import JiraConnector
from tests import tracker_fixtures as fx
from tests.fake_trackers import FakeGitHub, FakeJira, FakeLinear, Router, gh_issue


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as c:
        yield c


@pytest.fixture
def router(httpserver):
    return Router(httpserver)


@pytest.fixture
def settings(router, tmp_path):
    return load_settings(
        {
            "JIRA_BASE_URL": router.base_url,
            "JIRA_EMAIL": "bot@example.com",
            "JIRA_API_TOKEN": "jira-token-value",
            "JIRA_JQL": "project = PAY",
            "GITHUB_API_URL": router.base_url,
            "GITHUB_TOKEN": "ghp_token_value",
            "GITHUB_REPOS": "acme/web,acme/api",
            "LINEAR_API_URL": f"{router.base_url}/graphql",
            "LINEAR_API_KEY": "lin_api_key_value",
            "PRODUCTOPS_SALT": "test-salt",
            "PRODUCTOPS_WAREHOUSE": str(tmp_path / "w.duckdb"),
            "PRODUCTOPS_CONFIG": str(tmp_path / "none.toml"),
        }
    )


def flags(con, table: str, key: str) -> list[tuple]:
    return con.execute(
        f"select {key}, is_deleted, deleted_at is not null from raw.{table} order by {key}"
    ).fetchall()


def test_jira_issue_gone_from_the_source_is_flagged_then_restored(con, router, settings):
    jira = FakeJira(router, statuses=fx.statuses(), issues=fx.jira_issues())
    land_jira(RawLoader(con, "run-1"), settings)
    gone = jira.issues.pop("10103")
    stats = land_jira(RawLoader(con, "run-2"), settings)["issues:sweep"]
    assert (stats.keys_seen, stats.marked_deleted, stats.restored) == (2, 1, 0)
    assert flags(con, "jira_issues", "issue_key") == [
        ("PAY-1", False, False),
        ("PAY-2", False, False),
        ("PAY-3", True, True),
    ]
    # The sweep asked for ids only, in the configured scope, with Jira's largest pages.
    sweep = jira.searches[-1]
    assert sweep["fields"] == ["id"] and sweep["maxResults"] == 5000 and "expand" not in sweep
    assert sweep["jql"] == "(project = PAY) ORDER BY created ASC"
    # Back in the source (e.g. moved back into scope, unchanged): restored.
    jira.issues[gone.id] = gone
    stats = land_jira(RawLoader(con, "run-3"), settings)["issues:sweep"]
    assert (stats.marked_deleted, stats.restored) == (0, 1)
    assert flags(con, "jira_issues", "issue_key")[2] == ("PAY-3", False, False)


def test_a_sweep_that_fails_part_way_marks_nothing(con, router, settings):
    jira = FakeJira(router, statuses=fx.statuses(), issues=fx.jira_issues())
    land_jira(RawLoader(con, "run-1"), settings)
    del jira.issues["10101"]
    jira.bad_page = 2  # the id listing breaks on its second page
    jira.page_size = 1
    connector = JiraConnector(jira_session(settings), jql="project = PAY")
    with pytest.raises(SourceError, match="not valid JSON"):
        sweep_deletions(con, "jira", "jira_issues", "issue_id", connector.issue_ids())
    assert [row[1] for row in flags(con, "jira_issues", "issue_key")] == [False, False, False]


def test_an_empty_key_list_never_wipes_a_source(con, router, settings):
    FakeJira(router, statuses=fx.statuses(), issues=fx.jira_issues())
    land_jira(RawLoader(con, "run-1"), settings)
    # A token that lost access sees no issues at all: that is no proof of deletion.
    stats = sweep_deletions(con, "jira", "jira_issues", "issue_id", iter([[]]))
    assert stats.marked_deleted == 0 and "no keys" in stats.skipped
    assert [row[1] for row in flags(con, "jira_issues", "issue_key")] == [False, False, False]


def test_github_sweep_is_scoped_to_its_repository(con, router, settings):
    github = FakeGitHub(router, repo_ids={"acme/web": 42, "acme/api": 43})
    github.issues["acme/web"] = fx.github_issues()
    github.issues["acme/api"] = [gh_issue(6001, "acme/api", 1, created_at="2026-03-02T09:00:00Z")]
    land_github(RawLoader(con, "run-1"), settings)
    github.issues["acme/web"] = [i for i in github.issues["acme/web"] if i["number"] != 2]
    stats = land_github(RawLoader(con, "run-2"), settings)
    assert stats["issues:acme/web:sweep"].marked_deleted == 1
    assert stats["issues:acme/api:sweep"].marked_deleted == 0
    assert flags(con, "github_issues", "issue_id") == [
        (5001, False, False),
        (5002, True, True),
        (5003, False, False),
        (6001, False, False),
    ]
    # The sweep read the plain list (no since), and the pull request was no key.
    sweep_calls = [r for r in router.calls("GET", "/repos/acme/web/issues") if "since" not in r.args]
    assert sweep_calls[-1].args == {"state": "all", "per_page": "100"}
    assert stats["issues:acme/web:sweep"].keys_seen == 2


def test_linear_sweep_flags_vanished_issues_and_keeps_trashed_ones_deleted(con, router, settings):
    linear = FakeLinear(router, issues=fx.linear_issues())
    land_linear(RawLoader(con, "run-1"), settings)
    del linear.issues["9a1c5c1e-0000-4000-8000-000000000002"]
    stats = land_linear(RawLoader(con, "run-2"), settings)["issues:sweep"]
    assert (stats.keys_seen, stats.marked_deleted) == (2, 1)
    assert [(row[1], row[2]) for row in flags(con, "linear_issues", "identifier")] == [
        (False, False),  # ENG-1
        (True, True),  # ENG-2: gone from Linear (deleted for good)
        (False, False),  # ENG-3
        (True, True),  # ENG-4: in the trash since it was first landed
    ]
    ids_query = linear.queries[-1]
    assert "nodes { id trashed }" in ids_query["query"] and ids_query["variables"]["first"] == 250
