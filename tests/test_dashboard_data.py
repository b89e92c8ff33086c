"""The dashboard's reader: open, query, close; the newest publish is what it reads."""

from __future__ import annotations

import os
from datetime import date

import duckdb
import pytest

from dashboard.data import NotPublished, PublishedMarts
from dashboard.model import Filters, add_months, parse_period, signed

MONTHS = [date(2026, m, 1) for m in range(1, 12)]


def _publish(path, value: int) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with duckdb.connect(str(tmp)) as con:
        con.execute("create schema marts")
        con.execute(f"create table marts.numbers as select {value} as n")
    os.replace(tmp, path)


def test_each_query_reads_the_newest_publish_and_leaves_nothing_open(tmp_path):
    path = tmp_path / "productops.duckdb"
    _publish(path, 1)
    marts = PublishedMarts(path)
    assert marts.frame("select n from numbers")["n"].tolist() == [1]
    # Nothing left open: a read-write connection in this very process is allowed (DuckDB refuses
    # one while a read-only instance of the same file is alive).
    with duckdb.connect(str(path)) as writer:
        writer.execute("select 1").fetchall()
    _publish(path, 2)  # the publish step's atomic rename
    assert marts.frame("select n from numbers")["n"].tolist() == [2]
    assert marts.has("numbers") and not marts.has("wip_aging")


def test_nothing_published_says_what_to_run(tmp_path):
    with pytest.raises(NotPublished, match="make run"):
        PublishedMarts(tmp_path / "missing.duckdb").frame("select 1")


def test_the_read_only_reader_cannot_write(tmp_path):
    path = tmp_path / "productops.duckdb"
    _publish(path, 1)
    with pytest.raises(duckdb.Error):
        PublishedMarts(path).frame("create table marts.other as select 1 as n")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, (date(2026, 1, 1), date(2026, 10, 1))),  # twelve months up to the default, within the data
        ("2026-11", (date(2026, 1, 1), date(2026, 11, 1))),
        ("2026-03..2026-06", (date(2026, 3, 1), date(2026, 6, 1))),
    ],
)
def test_periods(text, expected):
    assert parse_period(text, MONTHS, date(2026, 10, 1)) == expected


@pytest.mark.parametrize("text", ["2026-06..2026-03", "2027-01", "Q3"])
def test_bad_periods_say_why(text):
    with pytest.raises(ValueError, match="period"):
        parse_period(text, MONTHS, date(2026, 10, 1))


def test_months_and_changes():
    assert add_months(date(2026, 11, 1), 2) == date(2027, 1, 1)
    assert add_months(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert signed(3, "{:,.0f}") == "+3"
    assert signed(-0.25, "{:.1f} d") == "-0.2 d"
    assert signed(None, "{:.0f}") is None
    filters = Filters("payments", "Payments", date(2026, 6, 1), date(2026, 11, 1))
    assert filters.until == date(2026, 12, 1) and filters.period_label == "Jun 2026 – Nov 2026"
