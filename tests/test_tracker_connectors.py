"""Jira and GitHub connectors against a real HTTP server, landed into DuckDB."""

from __future__ import annotations

import duckdb
import pytest

from ingestion.http.session import SourceSession, default_retry
from ingestion.loader import RawLoader
from ingestion.pages import SourceError
from ingestion.sources.github import GitHubConnector
from ingestion.sources.jira import JiraConnector


def _history(hid: int, created: str, frm: str, to: str) -> dict:
    return {
        "id": str(hid),
        "created": created,
        "items": [{"field": "status", "fieldtype": "jira", "fieldId": "status", "from": frm, "to": to}],
    }


def _issue(n: int, updated: str, histories: list[dict], total: int | None = None) -> dict:
    return {
        "id": str(10000 + n),
        "key": f"PAY-{n}",
        "fields": {
            "project": {"key": "PAY"},
            "status": {"id": "10001", "name": "Done", "statusCategory": {"key": "done"}},
            "created": "2026-03-01T09:00:00.000+0100",
            "updated": updated,
        },
        "changelog": {
            "startAt": 0,
            "maxResults": len(histories),
            "total": len(histories) if total is None else total,
            "histories": histories,
        },
    }


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as c:
        yield c


def _jira(httpserver) -> JiraConnector:
    session = SourceSession(
        "jira", httpserver.url_for("/"), retry=default_retry(total=2, backoff_factor=0.01)
    )
    return JiraConnector(session, jql="project = PAY", page_size=2)


def _serve_jira(httpserver, *, bad_second_page: bool = False) -> None:
    h1 = _history(1, "2026-03-02T09:00:00.000+0100", "10000", "3")
    h2 = _history(2, "2026-03-05T09:00:00.000+0100", "3", "10001")
    page1 = {
        "issues": [
            _issue(1, "2026-03-05T09:00:00.000+0100", [h1], total=2),  # truncated
            _issue(2, "2026-03-06T10:00:00.000+0100", []),
        ],
        "nextPageToken": "tok-2",
        "isLast": False,
    }
    page2 = {"issues": [_issue(3, "2026-03-31T10:00:00.000+0200", [])], "isLast": True}
    search = "/rest/api/3/search/jql"
    httpserver.expect_request(search, method="POST").respond_with_handler(
        lambda request: _jira_page(request, page1, page2, bad_second_page)
    )
    httpserver.expect_request("/rest/api/3/issue/PAY-1/changelog").respond_with_json(
        {"startAt": 0, "maxResults": 100, "total": 2, "isLast": True, "values": [h1, h2]}
    )


def _jira_page(request, page1, page2, bad_second_page):
    import json

    from werkzeug import Response

    body = request.get_json()
    assert body["expand"] == "changelog"
    if body.get("nextPageToken") == "tok-2":
        if bad_second_page:
            return Response("{not json", content_type="application/json")
        return Response(json.dumps(page2), content_type="application/json")
    return Response(json.dumps(page1), content_type="application/json")


def test_jira_pages_truncated_changelog_and_last_page_without_token(httpserver, con):
    _serve_jira(httpserver)
    loader = RawLoader(con, "run-1")
    stats = loader.land("jira", "issues", _jira(httpserver).issue_pages(None))
    assert stats.pages == 2
    assert con.execute("select count(*) from raw.jira_issues").fetchall() == [(3,)]
    # PAY-1 embedded one of two histories; the changelog endpoint completed it.
    assert con.execute("select count(*) from raw.jira_changelogs where issue_id = '10001'").fetchall() == [
        (2,)
    ]
    # +0200 without a colon, parsed exactly: 10:00+02:00 is 08:00 UTC.
    assert loader.cursor("jira", "issues") == "2026-03-31T08:00:00+00:00"


def test_invalid_page_names_url_keeps_earlier_pages(httpserver, con):
    _serve_jira(httpserver, bad_second_page=True)
    loader = RawLoader(con, "run-1")
    with pytest.raises(SourceError, match=r"jira: response is not valid JSON.*search/jql"):
        loader.land("jira", "issues", _jira(httpserver).issue_pages(None))
    # Page 1 was committed with its cursor; nothing of page 2.
    assert con.execute("select count(*) from raw.jira_issues").fetchall() == [(2,)]
    assert loader.cursor("jira", "issues") == "2026-03-06T09:00:00+00:00"


def test_rerun_is_idempotent(httpserver, con):
    _serve_jira(httpserver)
    for run in ("run-1", "run-2"):
        RawLoader(con, run).land("jira", "issues", _jira(httpserver).issue_pages(None))
    assert con.execute("select count(*), count(distinct issue_id) from raw.jira_issues").fetchall() == [
        (3, 3)
    ]
    assert con.execute("select count(*) from raw.jira_changelogs").fetchall() == [(2,)]


def test_incremental_jql_uses_cursor_minus_overlap(httpserver):
    connector = _jira(httpserver)
    assert connector.search_jql("2026-03-31T08:00:00+00:00") == (
        '(project = PAY) AND updated >= "2026-03-31 07:00" ORDER BY updated ASC'
    )


def _gh_issue(n: int, *, pr: bool = False) -> dict:
    item = {
        "id": 500 + n,
        "number": n,
        "state": "open",
        "created_at": "2026-04-01T10:00:00Z",
        "updated_at": f"2026-04-0{n}T10:00:00Z",
    }
    if pr:
        item["pull_request"] = {"url": "x"}
    return item


def test_github_link_paging_keeps_pull_requests_apart(httpserver, con):
    # The next link switches to the /repositories/{id}/ form, as GitHub does.
    next_url = httpserver.url_for("/repositories/42/issues") + "?page=2&per_page=100&state=all"
    httpserver.expect_request("/repos/acme/api/issues").respond_with_json(
        [_gh_issue(1), _gh_issue(2, pr=True)], headers={"Link": f'<{next_url}>; rel="next"'}
    )
    httpserver.expect_request(
        "/repositories/42/issues", query_string={"page": "2", "per_page": "100", "state": "all"}
    ).respond_with_json([_gh_issue(3)])
    session = SourceSession("github", httpserver.url_for("/"), retry=default_retry(total=1))
    loader = RawLoader(con, "run-1")
    stats = loader.land("github", "issues:acme/api", GitHubConnector(session).issue_pages("acme/api", None))
    assert stats.pages == 2
    assert con.execute("select list(issue_number order by 1) from raw.github_issues").fetchall() == [
        ([1, 3],)
    ]
    assert con.execute("select list(pr_number) from raw.github_pull_requests").fetchall() == [([2],)]
    assert loader.cursor("github", "issues:acme/api") == "2026-04-03T10:00:00+00:00"
