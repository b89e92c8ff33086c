"""read_ahead: a page iterator run ahead in a thread, errors and early stops kept in order."""

from __future__ import annotations

import threading

import pytest

from ingestion.sources.read_ahead import read_ahead


def test_items_come_in_order_at_any_depth():
    for depth in (0, 1, 3):
        assert list(read_ahead(iter(range(10)), depth)) == list(range(10))


def test_the_producer_runs_ahead_of_the_consumer():
    third_made = threading.Event()

    def pages():
        for n in range(5):
            if n == 2:
                third_made.set()
            yield n

    items = read_ahead(pages(), depth=2)
    assert next(items) == 0
    # The consumer holds page 0; page 2 is made meanwhile, in the other thread.
    assert third_made.wait(timeout=10)
    assert list(items) == [1, 2, 3, 4]


def test_an_error_arrives_after_the_pages_before_it():
    def pages():
        yield "a"
        yield "b"
        raise RuntimeError("page 3 is broken")

    seen = []
    with pytest.raises(RuntimeError, match="page 3 is broken"):
        for page in read_ahead(pages(), depth=2):
            seen.append(page)
    assert seen == ["a", "b"]


def test_a_consumer_that_stops_early_stops_the_producer():
    made = []

    def pages():
        for n in range(1000):
            made.append(n)
            yield n

    for page in read_ahead(pages(), depth=2, name="stopping-reader"):
        if page == 1:
            break
    # Two pages in hand, at most depth more queued and one blocked on the full queue.
    assert len(made) <= 2 + 2 + 1
    assert not [t for t in threading.enumerate() if t.name == "stopping-reader"]
