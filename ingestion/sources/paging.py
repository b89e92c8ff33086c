"""Where a stream's cursor goes when its pages come newest first.

Sources listed by update time are read newest first: an item updated during
the run then moves to the head of the list, which only pushes the others to
later pages (read twice, merged once). Oldest first, it would pull one item
back across a page boundary, unread, with an update time older than the
cursor: lost. The price of newest first is that the cursor may only move
once every page down to the old cursor has landed, so it rides on the last
page, and a run that stops half-way starts again from the old cursor (the
pages it landed stay; the merge on natural keys keeps re-read ones single).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ingestion.pages import Page


def cursor_on_last_page(
    pages: Iterable[tuple[Page, str | None, bool]], stream: str, cursor: str | None
) -> Iterator[Page]:
    """Each page as it comes; the last one carries the run's latest cursor value.

    `pages` gives each page with the latest cursor value among its records
    (or None) and whether the source said it is the last one. Pages land as
    they come, so a failure keeps the pages before it; only the cursor waits.
    """
    latest = cursor
    for page, page_latest, is_last in pages:
        if page_latest and (latest is None or page_latest > latest):
            latest = page_latest
        if is_last and latest:
            page.cursors[stream] = latest
        yield page
