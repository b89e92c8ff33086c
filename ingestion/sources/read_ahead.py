"""Read the next pages of a source while the current one is being landed.

Token-paged APIs (Jira's `nextPageToken`, Link headers) cannot be fetched
in parallel: each page names the next. What can overlap is the network wait
for page n+1 with the parsing and landing of page n, so a background thread
runs the page iterator a bounded number of pages ahead. Errors reach the
consumer at the page where they happened, after the pages before it; a
consumer that stops early stops the thread too.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()
_POLL_SECONDS = 0.5  # how often a blocked producer checks that it is still wanted
# A consumer that stops early waits this long for the producer's request in
# flight; past it the daemon thread ends at its next page, unread.
_JOIN_SECONDS = 5.0


class _Failed:
    def __init__(self, error: BaseException):
        self.error = error


def read_ahead(items: Iterable[T], depth: int = 2, name: str = "read-ahead") -> Iterator[T]:
    """Yield what `items` yields, produced up to `depth` items ahead in a thread.

    `depth` 0 reads in the caller's thread, as plain iteration would.
    """
    if depth <= 0:
        yield from items
        return
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as error:  # handed to the consumer, raised there
            put(_Failed(error))
            return
        put(_DONE)

    worker = threading.Thread(target=produce, name=name, daemon=True)
    worker.start()
    try:
        while True:
            item = buffer.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        worker.join(_JOIN_SECONDS)
