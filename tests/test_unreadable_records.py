"""One unreadable record is quarantined with source, URL, page and field; the rest of its page lands.

Real HTTP servers on 127.0.0.1 answer each connector with pages in the API's format,
one good record beside records with wrong types and missing keys.
"""

from __future__ import annotations

import json

import duckdb
import pytest
from werkzeug import Request, Response

from ingestion.deletions import sweep_deletions
from ingestion.http import SourceSession, connector_errors
from ingestion.loader import RawLoader
from ingestion.pages import SourceError
from ingestion.sources.github import GitHubConnector
from ingestion.sources.jira import JiraConnector
from ingestion.sources.linear import LinearConnector
from ingestion.sources.okta import OktaConnector


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as c:
        yield c


def session(httpserver, source: str, path: str = "/") -> SourceSession:
    return SourceSession(source, httpserver.url_for(path), sleep=lambda s: None)


def rejected(con) -> list[tuple[str, str, str]]:
    return con.execute(
        "select source, regexp_replace(locator, '^http://[^/]+', ''), reason"
        " from raw.rejected_records order by reason"
    ).fetchall()


def json_response(body, **headers) -> Response:
    return Response(json.dumps(body), headers=headers, content_type="application/json")


# -- GitHub ------------------------------------------------------------------------------


def gh_issue(n: int, **changes) -> dict:
    return {"id": n, "number": n, "updated_at": "2026-01-05T10:00:00Z", "title": f"#{n}", **changes}


def test_github_issue_and_event_pages(httpserver, con):
    issues = [
        gh_issue(1),
        gh_issue(2, updated_at=1767607200),  # a timestamp sent as a number
        {k: v for k, v in gh_issue(3).items() if k != "id"},
        gh_issue(4, number="four"),
        gh_issue(5),
    ]
    httpserver.expect_request("/repos/o/r/issues").respond_with_json(issues)
    event = {"id": 10, "issue": {"number": 1}, "event": "closed", "created_at": "2026-01-05T11:00:00Z"}
    events = [event, {**event, "id": 11, "issue": None}, {**event, "id": 12, "event": ["closed"]}]
    httpserver.expect_request("/repos/o/r/issues/events").respond_with_json(events)
    connector = GitHubConnector(session(httpserver, "github"))
    loader = RawLoader(con, "run-1")
    loader.land("github", "issues:o/r", connector.issue_pages("o/r", None))
    loader.land("github", "issue_events:o/r", connector.event_pages("o/r", None))

    assert con.execute("select issue_id from raw.github_issues order by 1").fetchall() == [(1,), (5,)]
    assert con.execute("select event_id from raw.github_issue_events").fetchall() == [(10,)]
    page = "/repos/o/r/issues?state=all&per_page=100&sort=updated&direction=desc#page=1"
    events_page = "/repos/o/r/issues/events?per_page=100#page=1"
    assert rejected(con) == [
        ("github", events_page, "event unreadable: field 'event': expected text, got list ['closed']"),
        ("github", events_page, "event unreadable: field 'issue.number': issue is NoneType, not an object"),
        ("github", page, "issue unreadable: field 'id': missing"),
        ("github", page, "issue unreadable: field 'number': expected an integer, got str 'four'"),
        (
            "github",
            page,
            "issue unreadable: field 'updated_at': expected an ISO 8601 timestamp text, got int 1767607200",
        ),
    ]

    # The deletion sweep lists the issues again: the one without an id, quarantined, is passed over.
    stats = sweep_deletions(
        con, "github", "github_issues", "issue_id", connector.issue_ids("o/r"), scope={"repository": "o/r"}
    )
    assert (stats.keys_seen, stats.marked_deleted) == (4, 0)


# -- Jira --------------------------------------------------------------------------------


def jira_issue(n: int, histories: list | None = None, **fields) -> dict:
    return {
        "id": str(n),
        "key": f"PAY-{n}",
        "fields": {"updated": "2026-01-05T10:00:00.000+0000", "project": {"key": "PAY"}, **fields},
        "changelog": {"histories": histories or [], "total": len(histories or [])},
    }


def test_jira_search_page(httpserver, con):
    history = {"id": "100", "created": "2026-01-04T10:00:00.000+0000", "items": []}
    no_id = {"created": "2026-01-04T11:00:00.000+0000", "items": []}
    issues = [
        jira_issue(1, [history, no_id]),  # a history without id: the issue and its other history land
        jira_issue(2, updated=1767607200),
        jira_issue(3, project=None),
        jira_issue(4),
    ]
    issues[3]["changelog"]["total"] = "many"
    httpserver.expect_request("/rest/api/3/search/jql", method="POST").respond_with_json(
        {"issues": issues, "isLast": True}
    )
    connector = JiraConnector(session(httpserver, "jira"), jql="project = PAY", time_zone="UTC")
    RawLoader(con, "run-1").land("jira", "issues", connector.issue_pages(None))

    assert con.execute("select issue_id from raw.jira_issues").fetchall() == [("1",)]
    assert con.execute("select history_id from raw.jira_changelogs").fetchall() == [("100",)]
    page = "/rest/api/3/search/jql#page=1"
    assert rejected(con) == [
        ("jira", f"{page}:PAY-1", "changelog history unreadable: field 'id': missing"),
        (
            "jira",
            f"{page}:PAY-3",
            "issue unreadable: field 'fields.project.key': fields.project is NoneType, not an object",
        ),
        (
            "jira",
            f"{page}:PAY-2",
            "issue unreadable: field 'fields.updated': expected an ISO 8601 timestamp text, got int 17676072"
            "00",
        ),
        ("jira", f"{page}:PAY-4", "issue unreadable: field 'total': expected an integer, got str 'many'"),
    ]


# -- Okta --------------------------------------------------------------------------------


def okta_event(uuid, **changes) -> dict:
    return {
        "uuid": uuid,
        "published": "2026-03-05T10:00:00.000Z",
        "eventType": "user.authentication.sso",
        "actor": {"id": "a", "alternateId": "a@example.com", "displayName": "Ada Lovelace"},
        "target": [{"type": "AppInstance", "displayName": "Figma"}],
        **changes,
    }


def test_okta_page(httpserver, con):
    events = [okta_event("u-1"), okta_event(None), okta_event("u-3", published=1767607200), okta_event("u-4")]

    def handler(request: Request) -> Response:
        return json_response(events if "after" not in request.args else [])

    httpserver.expect_request("/api/v1/logs").respond_with_handler(handler)
    connector = OktaConnector(session(httpserver, "okta"), page_size=10)
    RawLoader(con, "run-1").land("okta", "system_log", connector.log_pages(None, until=None))

    assert con.execute("select event_uuid from raw.okta_system_log order by 1").fetchall() == [
        ("u-1",),
        ("u-4",),
    ]
    reasons = [(source, reason) for source, _, reason in rejected(con)]
    assert reasons == [
        (
            "okta",
            "event unreadable: field 'published': expected an ISO 8601 timestamp text, got int 1767607200",
        ),
        ("okta", "event unreadable: field 'uuid': null"),
    ]
    assert all("/api/v1/logs?" in locator and locator.endswith("#page=1") for _, locator, _ in rejected(con))
    # Quarantined Okta payloads are minimised as landed ones are: no display names.
    payloads = con.execute("select payload from raw.rejected_records").fetchall()
    assert len(payloads) == 2 and not any("Ada Lovelace" in p for (p,) in payloads)


# -- Linear ------------------------------------------------------------------------------


def test_linear_page(httpserver, con):
    def node(n, **changes):
        return {
            "id": f"i-{n}",
            "identifier": f"ENG-{n}",
            "team": {"key": "ENG"},
            "updatedAt": "2026-01-05T10:00:00.000Z",
            **changes,
        }

    nodes = [node(1), node(2, team={}), node(3, updatedAt=None), node(4, identifier={"x": 1}), node(5)]
    body = {"data": {"issues": {"nodes": nodes, "pageInfo": {"hasNextPage": False, "endCursor": None}}}}
    httpserver.expect_request("/graphql", method="POST").respond_with_json(body)
    connector = LinearConnector(session(httpserver, "linear", "/graphql"))
    RawLoader(con, "run-1").land("linear", "issues", connector.issue_pages(None))

    assert con.execute("select issue_id from raw.linear_issues order by 1").fetchall() == [("i-1",), ("i-5",)]
    assert rejected(con) == [
        (
            "linear",
            "/graphql#page=1",
            "issue unreadable: field 'identifier': expected text, got dict {'x': 1}",
        ),
        ("linear", "/graphql#page=1", "issue unreadable: field 'team.key': missing"),
        ("linear", "/graphql#page=1", "issue unreadable: field 'updatedAt': null"),
    ]


# -- whatever else escapes ---------------------------------------------------------------


def test_an_exception_escaping_a_connector_names_source_and_url(httpserver):
    httpserver.expect_request("/rest/api/3/myself").respond_with_json({"timeZone": 7})
    made = session(httpserver, "jira")
    with pytest.raises(SourceError) as err, connector_errors(made):
        data, _ = made.json("GET", "/rest/api/3/myself")
        data["timeZone"].upper()  # an int where text was expected, in code no guard covers
    message = str(err.value)
    assert message.startswith("jira: unexpected AttributeError: 'int' object has no attribute 'upper'")
    assert message.endswith("/rest/api/3/myself)")
