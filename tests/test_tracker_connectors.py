"""Jira and GitHub connectors against real HTTP servers on loopback, landed into DuckDB.

The fakes (tests/fake_trackers.py) answer in the services' own formats; the
data set and its hand-worked numbers are in tests/tracker_fixtures.py.
"""

from __future__ import annotations

import json
import re
import threading

import duckdb
import pytest
from pytest_httpserver import HTTPServer

from ingestion.http.session import SourceSession, default_retry
from ingestion.loader import RawLoader
from ingestion.pages import SourceError
from ingestion.sources.github import GitHubConnector
from ingestion.sources.jira import BASE_FIELDS, JiraConnector
from tests import tracker_fixtures as fx
from tests.fake_trackers import Crash, FakeGitHub, FakeJira, Router, crash_after


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as c:
        yield c


@pytest.fixture
def router(httpserver):
    return Router(httpserver)


def rows(con, sql: str, *params):
    return con.execute(sql, list(params)).fetchall()


def session(router: Router, source: str, **kwargs) -> SourceSession:
    sleeps: list[float] = []
    kwargs.setdefault("retry", default_retry(total=3, backoff_factor=0.01))
    made = SourceSession(source, router.base_url, sleep=sleeps.append, **kwargs)
    made.sleeps = sleeps  # type: ignore[attr-defined]
    return made


# --------------------------------------------------------------------- Jira


@pytest.fixture
def jira(router):
    return FakeJira(router, statuses=fx.statuses(), issues=fx.jira_issues())


def jira_connector(router: Router, **kwargs) -> JiraConnector:
    return JiraConnector(session(router, "jira"), jql="project = PAY", page_size=2, **kwargs)


def land_jira(
    con, router: Router, run_id: str, connector: JiraConnector | None = None, crash: int | None = None
):
    connector = connector or jira_connector(router)
    loader = RawLoader(con, run_id)
    loader.land("jira", "statuses", [connector.status_page()])
    fields = (*BASE_FIELDS, connector.sprint_field_id() or "")
    pages = connector.issue_pages(loader.cursor("jira", "issues"), fields=fields)
    if crash is not None:
        pages = crash_after(pages, crash)
    return loader, loader.land("jira", "issues", pages)


def test_jira_reads_the_truncated_changelogs_of_a_page_at_once(con):
    # A threaded server: each issue's first changelog request waits until the
    # other issue's has arrived too, which only a client reading both at once passes.
    server = HTTPServer(threaded=True)
    server.start()
    try:
        router = Router(server)
        jira = FakeJira(router, statuses=fx.statuses(), issues=fx.jira_issues(), page_size=3)
        both_asked = threading.Barrier(2, timeout=10)
        one_at_a_time: list[str] = []

        def changelog(request, key):
            if "startAt" not in request.args:
                try:
                    both_asked.wait()
                except threading.BrokenBarrierError:
                    one_at_a_time.append(key)
            return jira.changelog(request, key)

        router.routes.insert(
            0, ("GET", re.compile(r"/rest/api/3/issue/(?P<key>[A-Z]+-\d+)/changelog$"), changelog)
        )
        connector = JiraConnector(session(router, "jira"), jql="project = PAY", page_size=3)
        _, stats = land_jira(con, router, "run-1", connector=connector)
    finally:
        server.clear()
        server.stop()
    assert one_at_a_time == []
    assert stats.pages == 1
    assert rows(con, "select issue_id, count(*) from raw.jira_changelogs group by 1 order by 1") == [
        ("10101", 4),
        ("10102", 4),
        ("10103", 1),
    ]


def test_jira_pages_truncated_changelog_and_renamed_status(con, router, jira):
    loader, stats = land_jira(con, router, "run-1")
    assert stats.pages == 2
    assert rows(con, "select issue_key, changelog_total from raw.jira_issues order by 1") == [
        ("PAY-1", 4),
        ("PAY-2", 4),
        ("PAY-3", 1),
    ]
    # Two of four histories were embedded; the changelog endpoint, two a page, gave the rest.
    assert rows(
        con, "select list(history_id order by history_id) from raw.jira_changelogs where issue_id = '10101'"
    ) == [(["20011", "20012", "20013", "20014"],)]
    changelog_calls = [
        r.args.get("startAt", "0") for r in router.calls("GET", "/rest/api/3/issue/PAY-1/changelog")
    ]
    assert changelog_calls == ["0", "2"]
    # The status keeps its id and gets its current name; the history keeps the old one.
    assert rows(
        con, "select status_name, status_category_key from raw.jira_statuses where status_id = '10002'"
    ) == [("In Review", "indeterminate")]
    assert rows(
        con, "select payload->>'$.items[0].toString' from raw.jira_changelogs where history_id = '20021'"
    ) == [("Code Review",)]
    # The sprint field was found by its schema and asked for; no description (ADF) was.
    assert "customfield_10020" in jira.searches[0]["fields"]
    assert "description" not in jira.searches[0]["fields"]
    assert jira.searches[0]["expand"] == "changelog"
    assert jira.searches[0]["jql"] == "(project = PAY) ORDER BY updated DESC"
    # A first run has no cursor: the user's zone is not needed.
    assert router.calls("GET", "/rest/api/3/myself") == []
    # 12:00+0200 is 10:00 UTC.
    assert loader.cursor("jira", "issues") == "2026-03-31T10:00:00+00:00"


def test_jira_null_and_deactivated_assignees_land(con, router, jira):
    land_jira(con, router, "run-1")
    assert rows(
        con,
        """
        select issue_key, payload->>'$.fields.assignee.accountId', payload->>'$.fields.assignee.active',
               payload->>'$.fields.assignee.emailAddress'
        from raw.jira_issues order by 1
        """,
    ) == [
        ("PAY-1", "acc-alice", "true", "alice@example.com"),
        ("PAY-2", "acc-gone", "false", None),
        ("PAY-3", None, None, None),
    ]


def test_jira_older_start_at_paging_is_accepted(con, router):
    fake = FakeJira(router, statuses=fx.statuses(), issues=fx.jira_issues(), legacy_paging=True)
    _, stats = land_jira(con, router, "run-1")
    assert stats.pages == 2
    assert [body.get("startAt") for body in fake.searches] == [None, 2]
    assert rows(con, "select count(*) from raw.jira_issues") == [(3,)]


def test_invalid_json_page_names_url_and_keeps_earlier_pages(con, router, jira):
    jira.bad_page = 2
    with pytest.raises(
        SourceError, match=r"^jira: response is not valid JSON .*\(http://\S+/rest/api/3/search/jql\)$"
    ):
        land_jira(con, router, "run-1")
    # Page 1 (newest first: PAY-1, PAY-2) is committed; nothing of page 2 (PAY-3).
    assert rows(con, "select list(issue_key order by issue_key) from raw.jira_issues") == [
        (["PAY-1", "PAY-2"],)
    ]
    assert rows(con, "select count(*) from raw.jira_changelogs where issue_id = '10103'") == [(0,)]
    # The cursor waits for the last page: the next run reads everything again.
    assert RawLoader(con, "x").cursor("jira", "issues") is None


def test_crash_between_pages_then_rerun_loses_and_duplicates_nothing(con, router, jira):
    with pytest.raises(Crash):
        land_jira(con, router, "run-1", crash=1)
    assert rows(con, "select count(*) from raw.jira_issues") == [(2,)]
    assert RawLoader(con, "x").cursor("jira", "issues") is None
    loader, _ = land_jira(con, router, "run-2")
    assert rows(con, "select count(*), count(distinct issue_id) from raw.jira_issues") == [(3, 3)]
    assert rows(con, "select count(*), count(distinct history_id) from raw.jira_changelogs") == [(9, 9)]
    assert jira.searches[-1]["jql"] == "(project = PAY) ORDER BY updated DESC"
    assert loader.cursor("jira", "issues") == "2026-03-31T10:00:00+00:00"


def test_an_issue_updated_during_the_run_is_not_skipped(con, router, jira):
    # Jira's pages may be offsets: an issue updated mid-run moves in the list.
    # Oldest first, the others would shift back and one would go unread;
    # newest first, they shift to later pages (read twice), never back.
    original = jira.search
    edited: list[str] = []

    def search_then_edit(request):
        response = original(request)
        if not edited:  # page 1 is out: the first issue on it is edited
            edited.append(json.loads(response.get_data())["issues"][0]["id"])
            jira.issues[edited[0]].fields["updated"] = "2026-04-01T09:00:00.000+0200"
        return response

    router.routes = [(m, p, search_then_edit if h == original else h) for m, p, h in router.routes]
    land_jira(con, router, "run-1")
    assert rows(con, "select count(*) from raw.jira_issues") == [(3,)]
    land_jira(con, router, "run-2")  # the edit is newer than the cursor
    assert rows(
        con, "select payload->>'$.fields.updated' from raw.jira_issues where issue_id = ?", edited[0]
    ) == [("2026-04-01T09:00:00.000+0200",)]


def test_second_incremental_run_fetches_only_what_changed(con, router, jira):
    land_jira(con, router, "run-1")
    pay3 = jira.issues["10103"]
    pay3.fields.update(
        status=fx.jira_status("10001", "Done", "done"),
        updated="2026-04-02T10:00:00.000+0200",
        resolution=fx.DONE,
        resolutiondate="2026-04-02T10:00:00.000+0200",
    )
    pay3.histories.append(
        fx.jira_history(
            "20032",
            "2026-04-02T10:00:00.000+0200",
            [fx.jira_status_item("3", "In Progress", "10001", "Done")],
        )
    )
    loader, _ = land_jira(con, router, "run-2")
    # cursor 10:00Z − 1 h = 09:00Z = 11:00 in Paris.
    assert (
        jira.searches[-1]["jql"] == '(project = PAY) AND updated >= "2026-03-31 11:00" ORDER BY updated DESC'
    )
    # PAY-1 is in the overlap, PAY-3 changed; PAY-2 was not asked for again.
    assert rows(con, "select issue_key, _run_id from raw.jira_issues order by 1") == [
        ("PAY-1", "run-2"),
        ("PAY-2", "run-1"),
        ("PAY-3", "run-2"),
    ]
    assert rows(
        con, "select payload->>'$.fields.status.id' from raw.jira_issues where issue_key = 'PAY-3'"
    ) == [("10001",)]
    assert rows(con, "select count(*) from raw.jira_changelogs where issue_id = '10103'") == [(2,)]
    assert loader.cursor("jira", "issues") == "2026-04-02T08:00:00+00:00"


def test_incremental_jql_is_written_in_the_api_users_time_zone(router):
    FakeJira(router, statuses=fx.statuses(), issues=[], time_zone="America/Los_Angeles")
    connector = jira_connector(router)
    # 08:00Z − 1 h = 07:00Z = 00:00 in Los Angeles (UTC−7 in summer).
    assert connector.search_jql("2026-03-31T08:00:00+00:00") == (
        '(project = PAY) AND updated >= "2026-03-31 00:00" ORDER BY updated DESC'
    )
    # In winter the same wall clock is UTC−8.
    assert connector.search_jql("2026-01-15T08:00:00+00:00") == (
        '(project = PAY) AND updated >= "2026-01-14 23:00" ORDER BY updated DESC'
    )
    assert len(router.calls("GET", "/rest/api/3/myself")) == 1  # asked once


def test_hidden_time_zone_widens_the_window_to_cover_any_zone(router):
    FakeJira(router, statuses=fx.statuses(), issues=[], time_zone=None)
    # 07:00Z − 14 h, written in UTC: early enough whatever zone Jira reads it in.
    assert jira_connector(router).search_jql("2026-03-31T08:00:00+00:00") == (
        '(project = PAY) AND updated >= "2026-03-30 17:00" ORDER BY updated DESC'
    )


def test_jira_500_then_success(con, router, jira):
    router.fail_next(
        "POST", "/rest/api/3/search/jql", status=500, body='{"errorMessages": ["Internal error"]}'
    )
    land_jira(con, router, "run-1")
    assert len(router.calls("POST", "/rest/api/3/search/jql")) == 3  # the failure, then two pages
    assert rows(con, "select count(*) from raw.jira_issues") == [(3,)]


# ------------------------------------------------------------------- GitHub


@pytest.fixture
def github(router):
    fake = FakeGitHub(router, repo_ids={fx.REPO: fx.REPO_ID})
    fake.issues[fx.REPO] = fx.github_issues()
    fake.events[fx.REPO] = fx.github_events(fake.issues[fx.REPO])
    return fake


def land_github(
    con, router: Router, run_id: str, connector: GitHubConnector | None = None, crash: int | None = None
):
    connector = connector or GitHubConnector(session(router, "github"))
    loader = RawLoader(con, run_id)
    issues = connector.issue_pages(fx.REPO, loader.cursor("github", f"issues:{fx.REPO}"))
    loader.land("github", f"issues:{fx.REPO}", issues)
    events = connector.event_pages(fx.REPO, loader.cursor("github", f"issue_events:{fx.REPO}"))
    if crash is not None:
        events = crash_after(events, crash)
    loader.land("github", f"issue_events:{fx.REPO}", events)
    return loader, connector


def test_github_link_paging_keeps_pull_requests_apart(con, router, github):
    loader, _ = land_github(con, router, "run-1")
    assert rows(con, "select list(issue_number order by issue_number) from raw.github_issues") == [
        ([1, 2, 3],)
    ]
    assert rows(con, "select list(pr_number) from raw.github_pull_requests") == [([4],)]
    # Page 2 came from the Link header, in the /repositories/{id}/ form.
    paths = [r.path for r in router.requests if r.path.endswith("/issues")]
    assert paths == ["/repos/acme/web/issues", "/repositories/42/issues"]
    assert router.requests[0].args == {
        "state": "all",
        "per_page": "100",
        "sort": "updated",
        "direction": "desc",
    }
    assert loader.cursor("github", "issues:acme/web") == "2026-03-10T12:00:00+00:00"
    assert rows(con, "select count(*) from raw.github_issue_events") == [(8,)]


def test_github_crash_between_issue_pages_then_rerun(con, router, github):
    connector = GitHubConnector(session(router, "github"))
    loader = RawLoader(con, "run-1")
    with pytest.raises(Crash):
        loader.land("github", "issues:acme/web", crash_after(connector.issue_pages(fx.REPO, None), 1))
    assert rows(con, "select list(issue_number order by issue_number) from raw.github_issues") == [([1, 3],)]
    assert loader.cursor("github", "issues:acme/web") is None  # newest first: no cursor yet
    land_github(con, router, "run-2")
    assert rows(con, "select count(*), count(distinct issue_id) from raw.github_issues") == [(3, 3)]
    assert rows(con, "select count(*) from raw.github_pull_requests") == [(1,)]


def test_an_issue_updated_during_the_run_skips_nothing(con, router, github):
    # GitHub pages by number: an issue updated mid-run moves in the list.
    # Oldest first, the rest would shift one place back across a page
    # boundary and one issue would never be read (its old updated_at lies
    # before the cursor); newest first, they shift forward and are read twice.
    edited: list[int] = []

    def edit_first_item_read(page: int, served: list[dict]) -> None:
        if page == 1 and not edited:
            edited.append(served[0]["number"])
            item = next(i for i in github.issues[fx.REPO] if i["number"] == edited[0])
            item["updated_at"] = "2026-03-11T08:00:00Z"

    github.after_issue_page = edit_first_item_read
    land_github(con, router, "run-1")
    assert rows(con, "select list(issue_number order by issue_number) from raw.github_issues") == [
        ([1, 2, 3],)
    ]
    land_github(con, router, "run-2")  # the edit is newer than the cursor: read now
    assert rows(
        con, "select payload->>'$.updated_at' from raw.github_issues where issue_number = ?", edited[0]
    ) == [("2026-03-11T08:00:00Z",)]


def test_github_state_reason_outside_the_enum_lands(con, router, github):
    land_github(con, router, "run-1")
    assert rows(con, "select payload->>'$.state_reason' from raw.github_issues where issue_number = 3") == [
        ("superseded",)
    ]
    assert rows(con, "select count(*) from raw.rejected_records") == [(0,)]


def test_github_secondary_403_then_429_with_retry_after_are_waited_out(con, router, github):
    router.fail_next(
        "GET",
        "/repos/acme/web/issues",
        status=403,
        headers={"x-ratelimit-remaining": "4321", "x-ratelimit-limit": "5000"},
        body=json.dumps(
            {
                "message": "You have exceeded a secondary rate limit. "
                "Please wait a few minutes before you try again."
            }
        ),
    )
    router.fail_next("GET", "/repositories/42/issues", status=429, headers={"Retry-After": "7"}, body="{}")
    connector = GitHubConnector(session(router, "github"))
    land_github(con, router, "run-1", connector)
    assert connector.session.sleeps == [60.0, 7.0]
    assert rows(con, "select count(*) from raw.github_issues") == [(3,)]


def test_github_timeout_then_success(con, router, github):
    router.fail_next("GET", "/repos/acme/web/issues", delay=1.0, then_serve=True)
    connector = GitHubConnector(session(router, "github", timeout=(2.0, 0.6)))
    land_github(con, router, "run-1", connector)
    assert len([r for r in router.requests if r.path == "/repos/acme/web/issues"]) >= 2
    assert rows(con, "select count(*) from raw.github_issues") == [(3,)]


def test_github_events_cursor_moves_only_with_the_last_page(con, router, github):
    # Events come newest first: a cursor moved after page 1 would skip pages 2 to 4.
    with pytest.raises(Crash):
        land_github(con, router, "run-1", crash=1)
    assert rows(con, "select count(*) from raw.github_issue_events") == [(2,)]
    assert RawLoader(con, "x").cursor("github", "issue_events:acme/web") is None
    loader, _ = land_github(con, router, "run-2")
    assert rows(con, "select count(*), count(distinct event_id) from raw.github_issue_events") == [(8, 8)]
    assert loader.cursor("github", "issue_events:acme/web") == "2026-03-09T15:00:00+00:00"


def test_github_second_run_asks_since_cursor_minus_overlap(con, router, github):
    land_github(con, router, "run-1")
    before = len(router.requests)
    land_github(con, router, "run-2")
    issue_calls = [r for r in router.requests[before:] if r.path.endswith("/issues")]
    assert issue_calls[0].args["since"] == "2026-03-10T11:00:00+00:00"
    assert rows(con, "select issue_number from raw.github_issues where _run_id = 'run-2'") == [(3,)]
    # Events stop at the old cursor: only page 1 (newest) was read again.
    event_calls = [r for r in router.requests[before:] if r.path.endswith("/events")]
    assert len(event_calls) == 1
