"""The gate ledger follows the files: a removed file takes its unvalidated rows with it, in one go.

Real usage files landed by the real reader into a real DuckDB file, real ledger entries.
"""

from __future__ import annotations

import json

import duckdb
import pytest

from ingestion.config import UsageMapping
from ingestion.loader import RawLoader
from ingestion.sources.usage_logs import land_usage_logs
from orchestration.gates.gone_files import forget_gone_files
from orchestration.gates.ledger import ensure_ledger, record_failure, record_pass, unvalidated_counts


def write_log(path, prefix: str, good: int, bad: int) -> None:
    lines = [
        json.dumps(
            {
                "timestamp": f"2026-11-18T10:{i:02d}:00+00:00",
                "user_email": "ann@example.com",
                "tool": "notion",
                "event": "page_viewed",
                "event_id": f"{prefix}-{i}",
            }
        )
        for i in range(good)
    ]
    lines += ['{"timestamp": "broken' for _ in range(bad)]
    path.write_text("\n".join(lines) + "\n")


def land(con, landing, run_id: str) -> None:
    loader = RawLoader(con, run_id)
    land_usage_logs(con, loader, landing / "usage", UsageMapping(), memory_limit=None)


def counts(con, path: str) -> tuple[int, int, int]:
    return con.execute(
        "select (select count(*) from raw.usage_events where _source_file = $p),"
        " (select count(*) from raw.rejected_records where starts_with(locator, $p || ':')),"
        " (select count(*) from raw.loaded_files where path = $p)",
        {"p": path},
    ).fetchall()[0]


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as c:
        ensure_ledger(c)
        yield c


def test_a_removed_file_takes_only_its_unvalidated_rows(con, tmp_path):
    landing = tmp_path / "landing"
    (landing / "usage").mkdir(parents=True)
    write_log(landing / "usage" / "kept.jsonl", "k", good=3, bad=0)
    land(con, landing, "run-1")
    record_pass(con, "usage", "run-1", {}, [])

    write_log(landing / "usage" / "bad.jsonl", "b", good=4, bad=2)
    write_log(landing / "usage" / "validated-then-removed.jsonl", "v", good=0, bad=0)
    land(con, landing, "run-2")
    record_failure(con, "usage", "run-2", {}, ["rejected_share_within_threshold"])
    assert counts(con, "usage/bad.jsonl") == (4, 2, 1)
    assert unvalidated_counts(con, {"usage_events": "usage"}) == {"usage_events": 4}

    (landing / "usage" / "bad.jsonl").unlink()
    (landing / "usage" / "kept.jsonl").unlink()  # validated: its rows are history and stay
    gone = forget_gone_files(RawLoader(con, "run-3"), landing, "usage", "events", "usage_events")

    assert [g.describe() for g in gone] == [
        "usage/bad.jsonl is gone from the landing folder: its 4 rows no gate had passed "
        "and 2 quarantined records were removed"
    ]
    assert counts(con, "usage/bad.jsonl") == (0, 0, 0)
    assert counts(con, "usage/kept.jsonl") == (3, 0, 1)
    assert unvalidated_counts(con, {"usage_events": "usage"}) == {}
    # A second look finds nothing more to do.
    assert forget_gone_files(RawLoader(con, "run-3"), landing, "usage", "events", "usage_events") == []


def test_a_file_that_comes_back_lands_again(con, tmp_path):
    landing = tmp_path / "landing"
    (landing / "usage").mkdir(parents=True)
    path = landing / "usage" / "bad.jsonl"
    write_log(path, "b", good=2, bad=1)
    land(con, landing, "run-1")
    record_failure(con, "usage", "run-1", {}, ["gate"])
    content = path.read_bytes()
    path.unlink()
    forget_gone_files(RawLoader(con, "run-2"), landing, "usage", "events", "usage_events")
    path.write_bytes(content)
    land(con, landing, "run-2")
    assert counts(con, "usage/bad.jsonl") == (2, 1, 1)
