"""Okta System Log connector against a real HTTP server on 127.0.0.1.

The server answers like Okta: one `link` header line per relation, rate-limit
headers on every page, and, when polling, an empty page after the last event
that still links onward. Pages are in tests/fixtures/okta/ (real event shape).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from werkzeug import Request, Response

from ingestion.http.session import SourceSession, default_retry
from ingestion.loader import RawLoader
from ingestion.sources.okta import OktaConnector, okta_time

FIXTURES = Path(__file__).parent / "fixtures" / "okta"
PAGES = [json.loads((FIXTURES / f"logs-page-{n}.json").read_text()) for n in (1, 2, 3)]
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


class OktaLog:
    """A System Log endpoint serving `pages` in turn, chained by `after` tokens."""

    def __init__(self, pages: list[list], *, polling: bool = True, exhausted_on: int | None = None):
        self.pages = pages
        self.polling = polling
        self.exhausted_on = exhausted_on  # page number whose quota is used up
        self.requests: list[dict[str, str]] = []

    def __call__(self, request: Request) -> Response:
        self.requests.append(dict(request.args))
        after = request.args.get("after")
        n = int(after.removeprefix("tok-")) if after else 0
        base = request.host_url.rstrip("/") + request.path
        links = [("link", f'<{base}?limit=3{f"&after={after}" if after else ""}>; rel="self"')]
        last = n == len(self.pages) - 1
        if not last or self.polling:
            # Polling: the last (empty) page links to itself, as Okta does.
            following = n if last else n + 1
            links.append(("link", f'<{base}?limit=3&after=tok-{following}>; rel="next"'))
        quota = "0" if self.exhausted_on == n + 1 else "599"
        headers = [
            ("Content-Type", "application/json"),
            *links,
            ("x-rate-limit-limit", "600"),
            ("x-rate-limit-remaining", quota),
            ("x-rate-limit-reset", str(int(time.time()) + 30)),
        ]
        return Response(json.dumps(self.pages[n]), status=200, headers=headers)


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as c:
        yield c


def connector(httpserver, sleeps: list[float] | None = None) -> OktaConnector:
    session = SourceSession(
        "okta",
        httpserver.url_for("/"),
        retry=default_retry(total=2, backoff_factor=0.01),
        sleep=(sleeps.append if sleeps is not None else lambda s: None),
    )
    return OktaConnector(session, page_size=3, clock=lambda: NOW)


def serve(httpserver, log: OktaLog) -> OktaLog:
    httpserver.expect_request("/api/v1/logs", method="GET").respond_with_handler(log)
    return log


def test_polling_follows_link_headers_and_stops_on_the_empty_page(httpserver, con):
    log = serve(httpserver, OktaLog(PAGES))
    loader = RawLoader(con, "run-1")
    pages = connector(httpserver).log_pages("2026-03-05T00:00:00+00:00")
    stats = loader.land("okta", "system_log", pages)

    # three requests: two pages of events, then the empty page ends the loop
    # although it links onward
    assert [r.get("after") for r in log.requests] == [None, "tok-1", "tok-2"]
    assert log.requests[0] == {
        "since": "2026-03-04T23:55:00.000Z",  # the cursor minus the 5-minute overlap
        "limit": "3",
        "sortOrder": "ASCENDING",
        "filter": 'eventType eq "user.authentication.sso" and outcome.result eq "SUCCESS"',
    }
    assert log.requests[1] == {"limit": "3", "after": "tok-1"}  # the next link as given
    assert (stats.pages, stats.rows_landed, stats.rows_rejected) == (2, 8, 1)
    assert loader.cursor("okta", "system_log") == "2026-03-07T12:00:00+00:00"
    assert con.execute(
        "select locator, reason from raw.rejected_records where source = 'okta'"
    ).fetchall() == [
        (
            httpserver.url_for("/api/v1/logs") + "?limit=3&after=tok-1#page=2",
            "event unreadable: field 'published': missing",
        )
    ]


def test_events_land_with_their_uuid_time_and_type(httpserver, con):
    serve(httpserver, OktaLog(PAGES))
    RawLoader(con, "run-1").land("okta", "system_log", connector(httpserver).log_pages(None))
    rows = con.execute(
        "select event_uuid, published_at, event_type, payload ->> '$.actor.id',"
        " payload ->> '$.actor.alternateId' from raw.okta_system_log order by published_at"
    ).fetchall()
    assert len(rows) == 8
    assert rows[0] == (
        PAGES[0][0]["uuid"],
        datetime(2026, 3, 5, 8, 0, tzinfo=UTC),
        "user.authentication.sso",
        "00u1ann00000000000a1",
        "Ann@Example.com",
    )


def test_names_and_network_details_are_not_landed(httpserver, con):
    serve(httpserver, OktaLog(PAGES))
    RawLoader(con, "run-1").land("okta", "system_log", connector(httpserver).log_pages(None))
    stored = "\n".join(
        p
        for (p,) in con.execute(
            "select payload::varchar from raw.okta_system_log"
            " union all select payload from raw.rejected_records"
        ).fetchall()
    )
    for name in ("Ann Lindqvist", "Bob Okafor", "Dave Moreau", "198.51.100.23", "48.8566"):
        assert name not in stored
    # what the warehouse needs is kept: actor id and login, the app and its type
    first = json.loads(
        con.execute(
            "select payload from raw.okta_system_log where event_uuid = ?", [PAGES[0][1]["uuid"]]
        ).fetchall()[0][0]
    )
    assert first["actor"] == {
        "id": "00u1bob00000000000b2",
        "type": "User",
        "alternateId": "bob@example.com",
        "detailEntry": None,
    }
    assert [(t["type"], t.get("displayName")) for t in first["target"]] == [
        ("AppUser", None),
        ("AppInstance", "Jira Software"),
    ]
    assert first["client"]["userAgent"]["browser"] == "CHROME"


def test_first_run_reaches_back_to_the_start_of_okta_retention(httpserver):
    log = serve(httpserver, OktaLog([[]]))
    assert list(connector(httpserver).log_pages(None)) == []
    assert log.requests[0]["since"] == okta_time(datetime(2025, 12, 11, 12, 0, tzinfo=UTC))  # NOW − 89 days


def test_bounded_request_reads_past_empty_pages_until_no_next_link(httpserver):
    # With `until`, an empty page is a gap in time, not the end: only the
    # absence of a next link ends the loop.
    log = serve(httpserver, OktaLog([[], PAGES[0], [], PAGES[1][:1]], polling=False))
    since, until = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 8, tzinfo=UTC)
    pages = list(connector(httpserver).log_pages("2026-03-09T00:00:00+00:00", since=since, until=until))
    assert [r.get("after") for r in log.requests] == [None, "tok-1", "tok-2", "tok-3"]
    assert (log.requests[0]["since"], log.requests[0]["until"]) == (
        "2026-03-01T00:00:00.000Z",
        "2026-03-08T00:00:00.000Z",
    )
    assert [p.row_count for p in pages] == [3, 1]
    # a backfill never moves the cursor back
    assert pages[-1].cursors == {"system_log": "2026-03-09T00:00:00+00:00"}


def test_an_exhausted_quota_waits_for_the_reset(httpserver):
    sleeps: list[float] = []
    serve(httpserver, OktaLog(PAGES, exhausted_on=1))
    pages = list(connector(httpserver, sleeps).log_pages(None))
    assert len(pages) == 2
    assert len(sleeps) == 1 and 25 <= sleeps[0] <= 32  # the reset is 30 s ahead, plus a second


def test_429_is_retried_after_the_reset(httpserver, con):
    calls = {"n": 0}

    def limited(request: Request) -> Response:
        calls["n"] += 1
        if calls["n"] == 1:
            error = {
                "errorCode": "E0000047",
                "errorSummary": "API call exceeded rate limit due to too many requests.",
            }
            return Response(
                json.dumps(error),
                status=429,
                headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(time.time()))},
            )
        return Response("[]", status=200, headers={"Content-Type": "application/json"})

    httpserver.expect_request("/api/v1/logs").respond_with_handler(limited)
    assert list(connector(httpserver).log_pages(None)) == []
    assert calls["n"] == 2
