"""The raw loader: a batch of pages per transaction, merge on the natural key."""

from __future__ import annotations

import duckdb
import pytest

from ingestion import loader as loader_module
from ingestion.loader import RawLoader
from ingestion.pages import Page, Rejected


def _event(uuid: str, published: str = "2026-05-01T10:00:00Z", n: int = 0) -> dict:
    return {
        "event_uuid": uuid,
        "published_at": published,
        "event_type": "user.authentication.sso",
        "payload": {"n": n},
    }


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as c:
        yield c


def test_latest_version_wins_and_cursor_advances(con):
    loader = RawLoader(con, "run-1")
    pages = [
        Page("p1", rows={"okta_system_log": [_event("a", n=1), _event("b")]}, cursors={"system_log": "c1"}),
        Page(
            "p2", rows={"okta_system_log": [_event("a", n=2), _event("a", n=3)]}, cursors={"system_log": "c2"}
        ),
    ]
    stats = loader.land("okta", "system_log", pages)
    assert (stats.pages, stats.rows_landed) == (2, 4)
    assert con.execute("select event_uuid, payload->>'n' from raw.okta_system_log order by 1").fetchall() == [
        ("a", "3"),
        ("b", "0"),
    ]
    assert loader.cursor("okta", "system_log") == "c2"
    assert con.execute("select pages, rows_landed from raw.load_log").fetchall() == [(2, 4)]


def test_a_failing_page_leaves_nothing_of_itself(con):
    loader = RawLoader(con, "run-1")
    loader.land_page(
        "okta", Page("p1", rows={"okta_system_log": [_event("a")]}, cursors={"system_log": "c1"})
    )
    bad = Page(
        "p2",
        rows={"okta_system_log": [_event("b"), _event("c", published="not a time")]},
        rejected=[Rejected("system_log", "p2#1", "unreadable")],
        cursors={"system_log": "c2"},
    )
    with pytest.raises(duckdb.Error):
        loader.land_page("okta", bad)
    assert con.execute("select list(event_uuid) from raw.okta_system_log").fetchall() == [(["a"],)]
    assert con.execute("select count(*) from raw.rejected_records").fetchall() == [(0,)]
    assert loader.cursor("okta", "system_log") == "c1"


def test_crash_between_pages_then_rerun_loses_and_duplicates_nothing(con):
    def pages(crash: bool):
        yield Page("p1", rows={"okta_system_log": [_event("a"), _event("b")]}, cursors={"system_log": "c1"})
        if crash:
            raise ConnectionError("network gone")
        yield Page("p2", rows={"okta_system_log": [_event("c")]}, cursors={"system_log": "c2"})

    with pytest.raises(ConnectionError):
        RawLoader(con, "run-1").land("okta", "system_log", pages(crash=True))
    # The page read before the source failed landed, with its cursor.
    assert con.execute("select count(*) from raw.okta_system_log").fetchall() == [(2,)]
    assert RawLoader(con, "run-1b").cursor("okta", "system_log") == "c1"
    RawLoader(con, "run-2").land("okta", "system_log", pages(crash=False))
    assert con.execute("select count(*), count(distinct event_uuid) from raw.okta_system_log").fetchall() == [
        (3, 3)
    ]


def test_rejected_records_are_quarantined_with_reason(con):
    loader = RawLoader(con, "run-9")
    loader.land_page(
        "usage", Page("f", rejected=[Rejected("events", "usage/a.jsonl:3", "invalid JSON", "{x")])
    )
    assert con.execute(
        "select source, stream, locator, reason, payload, run_id from raw.rejected_records"
    ).fetchall() == [("usage", "events", "usage/a.jsonl:3", "invalid JSON", "{x", "run-9")]


def test_consecutive_pages_share_a_transaction_up_to_the_batch_size(con, monkeypatch):
    monkeypatch.setattr(loader_module, "BATCH_ROWS", 3)
    pages = [
        Page(
            f"p{i}",
            rows={"okta_system_log": [_event(f"{i}a"), _event(f"{i}b")]},
            cursors={"system_log": f"c{i}"},
        )
        for i in (1, 2, 3)
    ]
    stats = RawLoader(con, "run-1").land("okta", "system_log", pages)
    assert stats.pages == 3
    # One load time per transaction: pages 1 and 2 reached 3 rows together, page 3 went alone.
    assert con.execute(
        "select string_agg(event_uuid, ',' order by event_uuid)"
        " from raw.okta_system_log group by _loaded_at order by 1"
    ).fetchall() == [("1a,1b,2a,2b",), ("3a,3b",)]
    assert RawLoader(con, "run-2").cursor("okta", "system_log") == "c3"
