"""Every paging loop ends: a page asked for twice, pages that repeat, or more pages than reported.

A server can send a `Link: rel="next"` back to a page already read, alternate
two page tokens (A, B, A, B), or hand out new tokens while the same records
come back. Each would page for ever. `PageGuard` sits in each loop and stops
it with a `SourceError` naming the source, the listing and the page.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from urllib.parse import parse_qs, urlsplit

from ingestion.pages import SourceError

# Records can be added while a listing is read: room for that above what the API reported.
CAP_SLACK_SHARE = 0.1
CAP_SLACK_PAGES = 2
# Pages in a row that bring nothing new before a listing counts as looping.
STALE_PAGES_IN_A_ROW = 2


class PageGuard:
    def __init__(self, source: str, listing: str):
        self.source = source
        self.listing = listing
        self.number = 0
        self.cap: int | None = None
        self.cap_reason = ""
        self._asked: dict[str, int] = {}
        self._records: set[str] = set()
        self._stale = 0

    def _fail(self, locator: str, message: str) -> SourceError:
        return SourceError(self.source, locator, f"{self.listing}: page {self.number} {message}")

    def next_page(self, request: str, locator: str) -> None:
        """Called before reading a page: `request` is what identifies it (its URL, token, cursor)."""
        self.number += 1
        if request in self._asked:
            raise self._fail(
                locator,
                f"asks for a page already read (page {self._asked[request]}): the listing loops",
            )
        self._asked[request] = self.number
        if self.cap is not None and self.number > self.cap:
            raise self._fail(locator, f"is past the {self.cap} pages the API reported ({self.cap_reason})")

    def records(self, ids: Iterable[object], locator: str) -> None:
        """The records of the page just read: pages that bring only records already read, in a row, loop."""
        keys = {str(i) for i in ids}
        if keys and keys <= self._records:
            self._stale += 1
            if self._stale >= STALE_PAGES_IN_A_ROW:
                raise self._fail(
                    locator,
                    f"is the {self._stale}th page in a row with only records already read: the listing loops",
                )
        else:
            self._stale = 0
        self._records |= keys

    def reported_pages(self, pages: int, reason: str) -> None:
        """What the API first said the listing holds, in pages; the cap leaves room for records added
        meanwhile. Later reports do not move it: a total that grows with every page is the loop itself."""
        if pages < 0 or self.cap is not None:
            return
        self.cap = pages + math.ceil(pages * CAP_SLACK_SHARE) + CAP_SLACK_PAGES
        self.cap_reason = reason

    def reported_total(self, total: object, page_size: int, reason: str) -> None:
        try:
            count = int(total)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            return
        if page_size > 0:
            self.reported_pages(math.ceil(count / page_size), f"{reason}: {count} records")


def last_page_number(links: dict) -> int | None:
    """The page number in a `Link: rel="last"` URL (GitHub), if any."""
    url = links.get("last", {}).get("url")
    if not url:
        return None
    values = parse_qs(urlsplit(url).query).get("page")
    try:
        return int(values[0]) if values else None
    except ValueError:
        return None
