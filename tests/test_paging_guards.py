"""Every paging loop ends: servers on 127.0.0.1 that loop their listings the ways real ones do."""

from __future__ import annotations

import json
from itertools import islice

import pytest
from werkzeug import Request, Response

from ingestion.http import SourceSession
from ingestion.pages import SourceError
from ingestion.sources.github import GitHubConnector
from ingestion.sources.jira import JiraConnector
from ingestion.sources.linear import LinearConnector
from ingestion.sources.okta import OktaConnector

# A loop that is not caught would page for ever: stop the test long before that.
MAX_TEST_PAGES = 200


def session(httpserver, source: str, path: str = "/") -> SourceSession:
    return SourceSession(source, httpserver.url_for(path), sleep=lambda s: None)


def drain(pages) -> list:
    read = list(islice(pages, MAX_TEST_PAGES))
    assert len(read) < MAX_TEST_PAGES, "the loop did not end"
    return read


def github_issue(n: int) -> dict:
    return {"id": n, "number": n, "updated_at": f"2026-01-{n % 28 + 1:02d}T00:00:00Z", "title": f"#{n}"}


def test_github_next_link_back_to_a_page_already_read(httpserver):
    def handler(request: Request) -> Response:
        page = int(request.args.get("page", "1"))
        nxt = 2 if page == 3 else page + 1  # page 3 links back to page 2
        link = f'<{httpserver.url_for("/repos/o/r/issues")}?page={nxt}&per_page=2>; rel="next"'
        body = [github_issue(page * 10 + i) for i in range(2)]
        return Response(json.dumps(body), headers={"Link": link}, content_type="application/json")

    httpserver.expect_request("/repos/o/r/issues").respond_with_handler(handler)
    connector = GitHubConnector(session(httpserver, "github"))
    with pytest.raises(SourceError) as err:
        drain(connector.issue_pages("o/r", None))
    message = str(err.value)
    assert message.startswith("github: /repos/o/r/issues: page 4 asks for a page already read (page 2)")
    assert message.endswith("/repos/o/r/issues?page=2&per_page=2)")


def test_github_pages_past_the_reported_last_page(httpserver):
    def handler(request: Request) -> Response:
        page = int(request.args.get("page", "1"))
        url = httpserver.url_for("/repos/o/r/issues")
        # Says there are 3 pages, then never stops linking onward with new records.
        link = f'<{url}?page={page + 1}>; rel="next", <{url}?page=3>; rel="last"'
        return Response(
            json.dumps([github_issue(page)]), headers={"Link": link}, content_type="application/json"
        )

    httpserver.expect_request("/repos/o/r/issues").respond_with_handler(handler)
    with pytest.raises(
        SourceError, match=r'page 7 is past the 6 pages the API reported \(Link rel="last" is page 3\)'
    ):
        drain(GitHubConnector(session(httpserver, "github")).issue_pages("o/r", None))


def jira_page(ids: list[int], token: str | None) -> dict:
    issues = [
        {"id": str(i), "key": f"PAY-{i}", "fields": {"updated": "2026-01-05T10:00:00.000+0000"}} for i in ids
    ]
    page: dict = {"issues": issues}
    if token:
        page["nextPageToken"] = token
    else:
        page["isLast"] = True
    return page


def serve_jira(httpserver, answer) -> None:
    def handler(request: Request) -> Response:
        token = (request.get_json() or {}).get("nextPageToken")
        return Response(json.dumps(answer(token)), content_type="application/json")

    httpserver.expect_request("/rest/api/3/search/jql", method="POST").respond_with_handler(handler)


def test_jira_tokens_alternating(httpserver):
    # A, B, A, B, ... with new issues on every page.
    count = iter(range(1000))
    serve_jira(httpserver, lambda token: jira_page([next(count)], "B" if token == "A" else "A"))
    connector = JiraConnector(session(httpserver, "jira"), jql="project = PAY", time_zone="UTC")
    with pytest.raises(SourceError, match=r"jira: search: page 4 asks for a page already read \(page 2\)"):
        drain(connector.issue_ids())


def test_jira_new_tokens_with_the_same_issues(httpserver):
    count = iter(range(1000))
    serve_jira(httpserver, lambda token: jira_page([1, 2], f"token-{next(count)}"))
    connector = JiraConnector(session(httpserver, "jira"), jql="project = PAY", time_zone="UTC")
    with pytest.raises(SourceError) as err:
        drain(connector.issue_pages(None))
    assert "jira: search: page 3 is the 2th page in a row with only records already read" in str(err.value)
    assert "/rest/api/3/search/jql#page=3" in str(err.value)


def test_jira_startat_paging_capped_by_the_first_total(httpserver):
    def handler(request: Request) -> Response:
        start = request.get_json().get("startAt", 0)
        # The first page says 4 issues; later pages bring new ones and a total that keeps growing.
        issues = [{"id": str(start + i), "key": f"PAY-{start + i}"} for i in range(2)]
        page = {"startAt": start, "maxResults": 2, "total": 4 if start == 0 else start + 10, "issues": issues}
        return Response(json.dumps(page), content_type="application/json")

    httpserver.expect_request("/rest/api/3/search/jql", method="POST").respond_with_handler(handler)
    connector = JiraConnector(session(httpserver, "jira"), jql="project = PAY", time_zone="UTC")
    with pytest.raises(
        SourceError, match=r"search: page 6 is past the 5 pages the API reported \(total: 4 records\)"
    ):
        drain(connector.issue_ids())


def test_okta_next_link_back_to_a_page_already_read(httpserver):
    def handler(request: Request) -> Response:
        after = request.args.get("after", "0")
        nxt = {"0": "1", "1": "2", "2": "1"}[after]
        link = f'<{httpserver.url_for("/api/v1/logs")}?after={nxt}&limit=2>; rel="next"'
        event = {
            "uuid": f"u-{after}",
            "published": "2026-03-05T10:00:00.000Z",
            "eventType": "user.authentication.sso",
            "actor": {"id": "a", "alternateId": "a@example.com"},
            "target": [{"type": "AppInstance", "displayName": "Figma"}],
        }
        return Response(json.dumps([event]), headers={"Link": link}, content_type="application/json")

    httpserver.expect_request("/api/v1/logs").respond_with_handler(handler)
    connector = OktaConnector(session(httpserver, "okta"), page_size=2)
    with pytest.raises(SourceError, match=r"okta: logs: page 4 asks for a page already read \(page 2\)"):
        drain(connector.log_pages("2026-03-05T00:00:00+00:00"))


def test_linear_cursors_alternating(httpserver):
    count = iter(range(1000))

    def handler(request: Request) -> Response:
        after = request.get_json()["variables"].get("after")
        node = {
            "id": f"i-{next(count)}",
            "identifier": "ENG-1",
            "team": {"key": "ENG"},
            "updatedAt": "2026-01-05T10:00:00.000Z",
        }
        info = {"hasNextPage": True, "endCursor": "c2" if after == "c1" else "c1"}
        body = {"data": {"issues": {"nodes": [node], "pageInfo": info}}}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/graphql", method="POST").respond_with_handler(handler)
    connector = LinearConnector(session(httpserver, "linear", "/graphql"))
    with pytest.raises(SourceError, match=r"linear: issues: page 4 asks for a page already read \(page 2\)"):
        drain(connector.issue_pages(None))
