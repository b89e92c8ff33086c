"""The raw loader: a batch of pages per transaction, merge on the natural key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from ingestion import loader as loader_module
from ingestion.loader import UNVALIDATED_FILE_DIGEST, RawLoader
from ingestion.pages import FileToLand, Page, Rejected

REPO_ROOT = Path(__file__).resolve().parent.parent


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


# -- whole files: replace_file ---------------------------------------------------------

# One line per row, as a file reader's classification yields them; line 5 repeats
# line 1's key, line 3 is blank, line 4 is unreadable.
LINES = """
    select * from (values
        (1, 'ok', null, null, 'k1', timestamptz '2026-05-01 10:00:00+00', 'ann@example.com', 'Miro', 'open'),
        (2, 'ok', null, null, 'k2', timestamptz '2026-05-01 11:00:00+00', 'bob@example.com', 'Miro', 'open'),
        (3, 'skipped', null, null, null, null, null, null, null),
        (4, 'rejected', 'invalid JSON', '{"x":', null, null, null, null, null),
        (5, 'ok', null, null, 'k1', timestamptz '2026-05-01 12:00:00+00', 'ann@example.com', 'Miro', 'edit')
    ) as t(line_no, status, reason, payload, event_key, occurred_at, user_email, tool, event),
    (select 'email' as identity_kind)
    where $wanted = $wanted
"""


# A table like usage_events but keyed by a primary key: replace_file's other way to de-duplicate.
KEYED_EVENTS = """
    create table raw.keyed_events (
        event_key varchar primary key, occurred_at timestamptz not null, user_email varchar not null,
        tool varchar not null, event varchar not null, _source_file varchar not null,
        _line_number integer not null, _loaded_at timestamptz not null, _run_id varchar not null,
        identity_kind varchar default 'email')
"""


@pytest.fixture(params=["usage_events", "keyed_events"])
def table(request, con):
    """Each file test runs against a table de-duplicated by the loader (DEDUPE_KEYS,
    usage_events) and one whose primary key does it: both must land the same."""
    RawLoader(con, "setup")
    if request.param == "keyed_events":
        con.execute(KEYED_EVENTS)
    return request.param


def _replace(
    loader: RawLoader, table: str, path: str = "usage/a.jsonl", digest: str = "d1", lines: str = LINES
):
    file = FileToLand(path, digest, "events")
    return loader.replace_file("usage", "events", file, table, lines, {"wanted": 1})


def test_every_line_of_a_file_meets_one_fate_counted_in_loaded_files(con, table):
    loader = RawLoader(con, "run-1")
    counts = _replace(loader, table)
    assert (counts.landed, counts.duplicates, counts.skipped, counts.rejected) == (2, 1, 1, 1)
    assert counts.lines == 5
    # The first line of a key wins within the file.
    assert con.execute(
        f"select event_key, event, _source_file, _line_number from raw.{table} order by 1"
    ).fetchall() == [("k1", "open", "usage/a.jsonl", 1), ("k2", "open", "usage/a.jsonl", 2)]
    assert con.execute("select locator, reason, payload from raw.rejected_records").fetchall() == [
        ("usage/a.jsonl:4", "invalid JSON", '{"x":')
    ]
    assert con.execute(
        "select path, sha256, source, rows_landed, rows_duplicate, rows_skipped, rows_rejected"
        " from raw.loaded_files"
    ).fetchall() == [("usage/a.jsonl", "d1", "usage", 2, 1, 1, 1)]
    assert loader.file_digest("usage/a.jsonl") == "d1"


def test_a_file_landed_again_replaces_its_rows_and_quarantine_and_keys_of_other_files_win(con, table):
    _replace(RawLoader(con, "run-1"), table)
    shorter = LINES.replace("(4, 'rejected'", "(4, 'skipped'").replace("'k2'", "'k3'")
    counts = _replace(RawLoader(con, "run-2"), table, digest="d2", lines=shorter)
    assert (counts.landed, counts.duplicates, counts.skipped, counts.rejected) == (2, 1, 2, 0)
    assert con.execute(f"select list(event_key order by event_key) from raw.{table}").fetchall() == [
        (["k1", "k3"],)
    ]
    assert con.execute("select count(*) from raw.rejected_records").fetchall() == [(0,)]
    # Another file with the same keys: the rows already landed win, counted as duplicates.
    counts = _replace(RawLoader(con, "run-3"), table, path="usage/b.jsonl", digest="d3")
    assert (counts.landed, counts.duplicates) == (1, 2)  # k2 is new; k1 twice is not
    assert con.execute(f"select _source_file from raw.{table} where event_key = 'k1'").fetchall() == [
        ("usage/a.jsonl",)
    ]


def test_a_file_that_fails_midway_leaves_what_it_landed_before(con, table):
    _replace(RawLoader(con, "run-1"), table)
    broken = LINES.replace("'bob@example.com', 'Miro'", "'bob@example.com', null")  # tool is not null
    with pytest.raises(duckdb.Error):
        _replace(RawLoader(con, "run-2"), table, digest="d2", lines=broken)
    assert con.execute(f"select count(*) from raw.{table}").fetchall() == [(2,)]
    assert con.execute("select sha256, run_id from raw.loaded_files").fetchall() == [("d1", "run-1")]


# -- warehouses from before DEDUPE_KEYS ---------------------------------------------------

# raw.usage_events as the first releases created it: keyed by a primary key, no identity_kind.
OLD_USAGE_EVENTS = """
    create schema raw;
    create table raw.usage_events (
        event_key varchar primary key,
        occurred_at timestamptz not null,
        user_email varchar not null,
        tool varchar not null,
        event varchar not null,
        _source_file varchar not null,
        _line_number integer not null,
        _loaded_at timestamptz not null,
        _run_id varchar not null
    );
    insert into raw.usage_events
    select 'k' || i, timestamptz '2026-05-01 00:00:00+00' + to_minutes(i), 'u' || i % 7 || '@example.com',
           'Miro', 'open', 'usage/old.jsonl', i + 1, timestamptz '2026-05-02 00:00:00+00', 'run-0'
    from range(1000) r(i);
    create schema staging;
    create view staging.usage as select event_key, user_email from raw.usage_events;
"""
OLD_ROWS = "select * exclude (identity_kind) from raw.usage_events order by event_key"


def _keys(con, table: str = "usage_events") -> list:
    return con.execute(
        "select constraint_type from duckdb_constraints()"
        " where table_name = ? and constraint_type in ('PRIMARY KEY', 'UNIQUE')",
        [table],
    ).fetchall()


def test_an_old_warehouse_loses_the_usage_key_once_and_keeps_every_row(tmp_path):
    path = str(tmp_path / "old.duckdb")
    with duckdb.connect(path) as con:
        con.execute(OLD_USAGE_EVENTS)
        before = con.execute("select * from raw.usage_events order by event_key").fetchall()
    with duckdb.connect(path) as con:
        RawLoader(con, "run-1")  # the raw-schema setup every run does
        assert _keys(con) == []
        assert _keys(con, "jira_issues") == [("PRIMARY KEY",)]  # the other tables keep theirs
        assert con.execute(OLD_ROWS).fetchall() == before
        # The added column, its default, the NOT NULL constraints and the view over it hold.
        assert con.execute("select distinct identity_kind from raw.usage_events").fetchall() == [("email",)]
        assert con.execute("select count(*) from staging.usage").fetchall() == [(1000,)]
        with pytest.raises(duckdb.ConstraintException):
            con.execute("insert into raw.usage_events (event_key) values ('x')")
        # A file landing now de-duplicates against the migrated rows: k1 and k2 landed already.
        counts = _replace(RawLoader(con, "run-2"), "usage_events", path="usage/a.jsonl")
        assert (counts.landed, counts.duplicates) == (0, 3)
    with duckdb.connect(path) as con:
        RawLoader(con, "run-3")  # once: nothing left to migrate
        assert con.execute("select count(*) from raw.usage_events").fetchall() == [(1000,)]


def test_a_crash_midway_through_the_migration_leaves_the_old_table(tmp_path):
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(OLD_USAGE_EVENTS)
        before = con.execute("select * from raw.usage_events order by event_key").fetchall()
    # The process dies after the new table replaced the old one, before the commit.
    crash = f"""
import os, duckdb
from ingestion import loader
copy = loader._copy_without_key
def copy_then_die(*args):
    copy(*args)
    os._exit(3)
loader._copy_without_key = copy_then_die
loader.RawLoader(duckdb.connect({str(path)!r}), "run-1")
"""
    done = subprocess.run([sys.executable, "-c", crash], cwd=REPO_ROOT, capture_output=True, text=True)
    assert done.returncode == 3, done.stderr
    with duckdb.connect(str(path)) as con:
        assert _keys(con) == [("PRIMARY KEY",)]
        assert con.execute(OLD_ROWS).fetchall() == before
        assert con.execute(
            "select count(*) from duckdb_tables() where table_name like '%without_key'"
        ).fetchall() == [(0,)]
        RawLoader(con, "run-2")  # the next run migrates it
        assert _keys(con) == []
        assert con.execute(OLD_ROWS).fetchall() == before


def test_a_migration_that_would_lose_a_column_fails_and_changes_nothing(tmp_path, monkeypatch):
    path = str(tmp_path / "old.duckdb")
    with duckdb.connect(path) as con:
        con.execute(OLD_USAGE_EVENTS)
        con.execute("alter table raw.usage_events add column note varchar")  # unknown to the DDL
    with duckdb.connect(path) as con:
        with pytest.raises(duckdb.BinderException, match="note"):
            RawLoader(con, "run-1")
        assert _keys(con) == [("PRIMARY KEY",)]
        assert con.execute("select count(*) from raw.usage_events").fetchall() == [(1000,)]


def test_pages_merge_into_a_table_without_a_primary_key(con):
    """`land` upserts on DEDUPE_KEYS as on a primary key: the latest version wins,
    an unchanged row keeps its _loaded_at, columns left out take their defaults."""

    def row(key: str, event: str, **extra) -> dict:
        fields = {"occurred_at": "2026-05-01T10:00:00Z", "user_email": "a@example.com", "tool": "Miro"}
        return {"event_key": key, **fields, "event": event, "_source_file": "a", "_line_number": 1, **extra}

    RawLoader(con, "run-1").land("usage", "events", [Page("p1", rows={"usage_events": [
        row("k1", "open", identity_kind="email"), row("k2", "open", identity_kind="id")]})])  # fmt: skip
    first = dict(con.execute("select event_key, _loaded_at from raw.usage_events").fetchall())
    RawLoader(con, "run-2").land("usage", "events", [Page("p2", rows={"usage_events": [
        row("k1", "open"), row("k2", "open"), row("k3", "open")]})])  # fmt: skip
    rows = con.execute(
        "select event_key, identity_kind, _run_id, _loaded_at from raw.usage_events order by 1"
    ).fetchall()
    assert [(key, kind, run, loaded == first.get(key)) for key, kind, run, loaded in rows] == [
        ("k1", "email", "run-2", True),  # unchanged: keeps _loaded_at, joins run-2's batch
        ("k2", "email", "run-2", False),  # identity_kind left out: back to its default, a change
        ("k3", "email", "run-2", False),
    ]


# -- rewind ------------------------------------------------------------------------------


def test_rewind_restores_saved_cursors_and_marks_the_failed_runs_files(con):
    loader = RawLoader(con, "run-2")
    loader.land_page("usage", Page("p", cursors={"events": "c2", "other": "x"}))
    _replace(loader, "usage_events")
    _replace(RawLoader(con, "run-1"), "usage_events", path="usage/old.jsonl", digest="d0")
    loader.rewind("usage", {"events": ("c1", "run-1")}, failed_run="run-2")
    assert con.execute("select stream, cursor_value, run_id from raw.load_state").fetchall() == [
        ("events", "c1", "run-1")
    ]
    assert dict(con.execute("select path, sha256 from raw.loaded_files").fetchall()) == {
        "usage/a.jsonl": UNVALIDATED_FILE_DIGEST,
        "usage/old.jsonl": "d0",
    }


def test_operations_join_a_callers_transaction(con):
    loader = RawLoader(con, "run-1")
    with pytest.raises(RuntimeError), loader.transaction():
        loader.land_page("okta", Page("p1", rows={"okta_system_log": [_event("a")]}))
        raise RuntimeError("the caller's own bookkeeping failed")
    assert con.execute("select count(*) from raw.okta_system_log").fetchall() == [(0,)]


def _linear(issue_id: str, title: str = "t") -> dict:
    return {
        "issue_id": issue_id,
        "identifier": f"ENG-{issue_id}",
        "team_key": "ENG",
        "updated_at": "2026-05-01T10:00:00Z",
        "payload": {"title": title},
    }


def test_a_row_relanded_unchanged_keeps_its_loaded_at_and_a_changed_one_gets_a_new_one(con):
    RawLoader(con, "run-1").land_page(
        "linear", Page("p1", rows={"linear_issues": [_linear("1"), _linear("2"), _linear("3")]})
    )
    con.execute("update raw.linear_issues set is_deleted = true, deleted_at = now() where issue_id = '3'")
    first = dict(con.execute("select issue_id, _loaded_at from raw.linear_issues").fetchall())

    # The overlap window of the next run: one row as it was, one edited, one listed again, one new.
    relanded = [_linear("1"), _linear("2", title="edited"), _linear("3"), _linear("4")]
    RawLoader(con, "run-2").land_page("linear", Page("p1", rows={"linear_issues": relanded}))
    after = {
        issue_id: (loaded_at, run_id, title, deleted)
        for issue_id, loaded_at, run_id, title, deleted in con.execute(
            "select issue_id, _loaded_at, _run_id, payload->>'title', is_deleted from raw.linear_issues"
        ).fetchall()
    }
    # Unchanged: its _loaded_at stays, but it is in this run's batch, which the gates check.
    assert after["1"] == (first["1"], "run-2", "t", False)
    assert after["2"][1:] == ("run-2", "edited", False) and after["2"][0] > first["2"]
    # Flagged deleted and listed again: replaced whole, so restored with a new _loaded_at.
    assert after["3"][1:] == ("run-2", "t", False) and after["3"][0] > first["3"]
    assert after["4"][1] == "run-2"


def test_a_page_replacing_earlier_rows_can_land_them_again_unchanged(con):
    loader = RawLoader(con, "run-1")
    loader.land_page("okta", Page("p1", rows={"okta_system_log": [_event("a"), _event("b")]}))
    # Deleted then re-inserted in one transaction: the merge sees no conflict for "a".
    again = Page(
        "p2",
        rows={"okta_system_log": [_event("a")]},
        replaces={"okta_system_log": ("event_uuid", ["a", "b"])},
    )
    RawLoader(con, "run-2").land_page("okta", again)
    assert con.execute("select event_uuid, _run_id from raw.okta_system_log").fetchall() == [("a", "run-2")]
