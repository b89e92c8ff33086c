"""Real exports, real mess: every line of a usage file meets one fate.

Each fixture in tests/fixtures/messy/ is a usage log in a real format (a
Segment `track` export, concatenated exports, a CSV) with one kind of damage
people's files carry; the expected fates are counted by hand from the files.
A fate is one of: landed, dropped as a duplicate, skipped (blank, or left out
by the mapping), quarantined with file:line and reason. A file that cannot be
read at all is quarantined as a file, and the others still land.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from ingestion.config import UsageMapping
from ingestion.loader import RawLoader
from ingestion.sources.usage_logs import FieldMapping, land_usage_logs
from ingestion.text_files import MAX_LINE_BYTES

FIXTURES = Path(__file__).parent / "fixtures" / "messy"
SEGMENT = FieldMapping(
    files="segment-*",
    user_email=("userId", "anonymousId"),
    tool=("properties.tool",),
    event_id=("messageId",),
    only=(("type", "track"),),
)


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as c:
        yield c


def land(con, tmp_path, *names: str, run_id: str = "run-1", files: dict[str, bytes] | None = None):
    usage = tmp_path / "landing" / "usage"
    usage.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(FIXTURES / name, usage)
    for name, content in (files or {}).items():
        (usage / name).write_bytes(content)
    return land_usage_logs(con, RawLoader(con, run_id), usage, UsageMapping(), file_mappings=[SEGMENT])


def fates(stats, name: str) -> tuple[int, int, int, int]:
    counts = stats.files[f"usage/{name}"]
    return counts.landed, counts.duplicates, counts.skipped, counts.rejected


def rejects(con, name: str) -> dict[str, str]:
    rows = con.execute(
        "select locator, reason from raw.rejected_records where starts_with(locator, ?)", [f"usage/{name}"]
    ).fetchall()
    return dict(rows)


def keys(con, name: str) -> list[tuple[str, int]]:
    return con.execute(
        "select event_key, _line_number from raw.usage_events where _source_file = ? order by 2",
        [f"usage/{name}"],
    ).fetchall()


def test_segment_export_with_mixed_endings_and_lax_json(con, tmp_path):
    name = "segment-mixed-2026-06.jsonl"
    stats = land(con, tmp_path, name)
    # 10 lines: 1, 2, 8, 10 land; 5 repeats 1's messageId; 4 is blank and 6 an identify call;
    # 3, 7 and 9 are not strict JSON.
    assert fates(stats, name) == (4, 1, 2, 3)
    assert [line for _, line in keys(con, name)] == [1, 2, 8, 10]
    assert rejects(con, name) == {
        f"usage/{name}:3": "invalid JSON: a trailing comma",
        f"usage/{name}:7": "invalid JSON: NaN and Infinity are not JSON numbers",
        f"usage/{name}:9": "invalid JSON",
    }
    # The four counts are kept per file in the warehouse.
    assert con.execute(
        "select rows_landed, rows_duplicate, rows_skipped, rows_rejected, problem from raw.loaded_files"
    ).fetchall() == [(4, 1, 2, 3, None)]


def test_a_byte_order_mark_in_the_middle_of_concatenated_exports(con, tmp_path):
    name = "concatenated-2026-06.jsonl"
    stats = land(con, tmp_path, name)
    assert fates(stats, name) == (4, 0, 0, 0)
    assert [key for key, _ in keys(con, name)] == ["cat-1", "cat-2", "cat-3", "cat-4"]


def test_latin1_bytes_quarantine_their_line_only(con, tmp_path):
    name = "latin1-line-2026-06.jsonl"
    stats = land(con, tmp_path, name)
    assert fates(stats, name) == (2, 0, 0, 1)
    assert rejects(con, name) == {f"usage/{name}:2": "not UTF-8 text (byte 54 of the line)"}
    payload = con.execute("select payload from raw.rejected_records").fetchall()[0][0]
    assert "@" not in payload and "lat-2" in payload  # the line as text, its email scrubbed


def test_an_empty_file_lands_nothing_and_says_so(con, tmp_path):
    name = "empty-2026-06.jsonl"
    stats = land(con, tmp_path, name)
    assert fates(stats, name) == (0, 0, 0, 0)
    assert stats.files[f"usage/{name}"].problem is None


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("screenshot-2026-06.jsonl", "binary data, not text (NUL bytes in its first 8 KB)"),
        ("truncated-2026-06.jsonl.gz", "the gzip file is truncated"),
        (
            "no-header-2026-06.csv",
            "CSV header has no column 'timestamp', 'user_email', 'event', 'tool'"
            " (its first line holds values: the header row is missing)",
        ),
        (
            "duplicate-columns-2026-06.csv",
            "column 'tool' appears 2 times in the CSV header (columns 3 and 5)",
        ),
    ],
)
def test_a_file_that_cannot_be_read_is_quarantined_as_a_file_and_the_others_land(con, tmp_path, name, reason):
    stats = land(con, tmp_path, name, "concatenated-2026-06.jsonl")
    assert rejects(con, name) == {f"usage/{name}": f"usage/{name}: {reason}"}
    assert stats.files[f"usage/{name}"].problem == reason
    assert len(keys(con, "concatenated-2026-06.jsonl")) == 4
    recorded = con.execute("select problem from raw.loaded_files where path = ?", [f"usage/{name}"])
    assert recorded.fetchall() == [(reason,)]
    # Unchanged, it is not read (nor quarantined) again; the next run says nothing new.
    again = land(con, tmp_path, run_id="run-2")
    assert again.files == {}
    assert con.execute("select count(*) from raw.rejected_records").fetchall() == [(1,)]


def test_a_header_only_csv_has_no_line_to_land(con, tmp_path):
    name = "header-only-2026-06.csv"
    stats = land(con, tmp_path, name)
    assert fates(stats, name) == (0, 0, 0, 0)
    assert rejects(con, name) == {}


def test_a_10_mb_line_meets_its_fate_like_any_other(con, tmp_path):
    event = {"timestamp": "2026-06-07T08:00:00Z", "user_email": "ann@example.com", "tool": "Miro"}
    big = {**event, "event": "board_exported", "event_id": "big-1", "properties": {"svg": "x" * (10 << 20)}}
    huge = {**event, "event": "board_exported", "event_id": "huge-1", "svg": "y" * (MAX_LINE_BYTES + 10)}
    small = {**event, "event": "board_opened", "event_id": "small-1"}
    content = "\n".join(json.dumps(e) for e in (small, big, huge, small)) + "\n"
    stats = land(con, tmp_path, files={"big-2026-06.jsonl": content.encode()})
    assert fates(stats, "big-2026-06.jsonl") == (2, 1, 0, 1)
    assert [key for key, _ in keys(con, "big-2026-06.jsonl")] == ["small-1", "big-1"]
    assert rejects(con, "big-2026-06.jsonl") == {"usage/big-2026-06.jsonl:3": "a line longer than 16 MB"}


def test_status_and_the_run_summary_show_the_four_counts_per_file(con, tmp_path, capsys):
    from orchestration.cli import _print_files
    from orchestration.run_record import RunRecord, write_record
    from orchestration.status import read_file_fates, render_file_fates

    land(con, tmp_path, "segment-mixed-2026-06.jsonl", "screenshot-2026-06.jsonl")
    files = read_file_fates(con)
    assert sorted((f["path"], f["landed"], f["duplicates"], f["skipped"], f["rejected"]) for f in files) == [
        ("usage/screenshot-2026-06.jsonl", 0, 0, 0, 0),
        ("usage/segment-mixed-2026-06.jsonl", 4, 1, 2, 3),
    ]
    text = "\n".join(render_file_fates(files))
    assert "usage/segment-mixed-2026-06.jsonl" in text and "4         1        2         3" in text
    assert "unreadable, quarantined as a file: binary data, not text" in text

    record = tmp_path / "last_run.json"
    write_record(RunRecord("run-1", "success", "", "", 1.0, files=files), record)
    _print_files(record, "run-1")
    printed = capsys.readouterr().out
    assert "Files landed by this run" in printed and "usage/segment-mixed-2026-06.jsonl" in printed
    _print_files(record, "another-run")
    assert capsys.readouterr().out == ""


# -- identity that is not an email ----------------------------------------------------


def test_user_ids_land_as_ids_and_only_emails_meet_the_email_gate(con, tmp_path):
    from orchestration.gates.source_gates import SourceTables, run_source_gates
    from tests.test_gates import settings_for

    by_id = FieldMapping(
        files="segment-*",
        user_id=("userId", "anonymousId"),
        tool=("properties.tool",),
        event_id=("messageId",),
        only=(("type", "track"),),
    )
    usage = tmp_path / "landing" / "usage"
    usage.mkdir(parents=True)
    shutil.copy(FIXTURES / "segment-mixed-2026-06.jsonl", usage)
    shutil.copy(FIXTURES / "concatenated-2026-06.jsonl", usage)
    land_usage_logs(con, RawLoader(con, "run-1"), usage, UsageMapping(), file_mappings=[by_id])
    assert con.execute(
        "select _source_file, _line_number, user_email, identity_kind from raw.usage_events"
        " where _line_number in (1, 8) order by 1, 2"
    ).fetchall() == [
        ("usage/concatenated-2026-06.jsonl", 1, "ann@example.com", "email"),
        ("usage/segment-mixed-2026-06.jsonl", 1, "u-1001", "id"),
        # no userId: the anonymousId, as written (an id keeps its case)
        ("usage/segment-mixed-2026-06.jsonl", 8, "a7f3c2e1-0b4d-4e8a-9c6f-2d1e0f9a8b7c", "id"),
    ]
    # The README's Segment mapping can publish: ids are not checked for an email's shape.
    outcomes = run_source_gates(
        con, SourceTables("usage", (("events", "usage_events"),)), "run-1", settings_for(tmp_path)
    )
    expectations = next(o for o in outcomes if o.check == "batch_expectations")
    assert expectations.passed, expectations.message
