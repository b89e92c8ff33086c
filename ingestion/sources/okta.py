"""Okta System Log: `GET /api/v1/logs`, polled forward from a cursor.

Only successful SSO sign-ins to apps matter to adoption, so the query asks
Okta for just those (`eventType` and `outcome.result` in the filter); dbt
staging checks the outcome again, because a filter typo would otherwise count
failures as use.

Paging follows the `Link: <…>; rel="next"` header; Okta sends one `link`
header line per relation, which requests joins into one `Link` value and
`response.links` splits again. When polling (no `until`), Okta always returns
a next link, even after the last event, so an empty page ends the loop. A
bounded request (with `until`) ends when no next link is left; an empty page
there is only a gap in time and is followed.

Rate limits: 429s are retried by the shared session, which waits for
`x-rate-limit-reset`; a page that reports `x-rate-limit-remaining: 0` makes
the shared HTTP session wait for the reset before asking for the next one.

Data minimisation: the warehouse needs the actor's id and login and the app,
never the names or network details Okta adds, so display names of people and
IP/geolocation fields are removed before an event is landed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ingestion.http import SourceSession
from ingestion.pages import Page, SourceError
from ingestion.sources import fields
from ingestion.sources.page_guard import PageGuard
from ingestion.timeparse import parse_instant

log = logging.getLogger(__name__)

SOURCE = "okta"
STREAM = "system_log"
SSO_FILTER = 'eventType eq "user.authentication.sso" and outcome.result eq "SUCCESS"'
PERSON_TYPES = {"User", "AppUser"}  # targets whose displayName is a person's name


def okta_time(moment: datetime) -> str:
    """The form Okta documents for `since` / `until`: UTC, milliseconds, `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def minimised(event: dict[str, Any]) -> dict[str, Any]:
    """The event without people's display names and network details."""
    out = dict(event)
    if isinstance(out.get("actor"), dict):
        out["actor"] = {k: v for k, v in out["actor"].items() if k != "displayName"}
    if isinstance(out.get("target"), list):
        out["target"] = [
            {k: v for k, v in t.items() if not (k == "displayName" and t.get("type") in PERSON_TYPES)}
            if isinstance(t, dict)
            else t
            for t in out["target"]
        ]
    if isinstance(out.get("client"), dict):
        out["client"] = {
            k: v for k, v in out["client"].items() if k not in ("ipAddress", "geographicalContext")
        }
    if isinstance(out.get("request"), dict):
        out["request"] = {k: v for k, v in out["request"].items() if k != "ipChain"}
    return out


@dataclass
class OktaConnector:
    session: SourceSession
    overlap: timedelta = timedelta(minutes=5)
    page_size: int = 1000
    initial_lookback: timedelta = timedelta(days=89)  # Okta keeps 90 days
    max_reset_wait: float = 120.0
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC), repr=False)

    def log_pages(
        self,
        cursor: str | None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[Page]:
        """Pages of SSO events from `since` (default: the cursor minus an
        overlap, else the start of Okta's retention) up to `until` (default:
        now, polling). Each page carries the newest `published` seen so far as
        the cursor, which never moves back."""
        if since is None:
            since = parse_instant(cursor) - self.overlap if cursor else self.clock() - self.initial_lookback
        params: dict[str, Any] = {
            "since": okta_time(since),
            "limit": self.page_size,
            "sortOrder": "ASCENDING",
            "filter": SSO_FILTER,
        }
        if until is not None:
            params["until"] = okta_time(until)
        polling = until is None
        url: str | None = "/api/v1/logs"
        guard = PageGuard(SOURCE, "logs")
        latest = cursor
        while url:
            data, response = self.session.json("GET", url, params=params)
            locator = f"{response.url}#page={guard.number + 1}"
            guard.next_page(response.url, locator)
            if not isinstance(data, list):
                raise SourceError(SOURCE, response.url, "expected a JSON list of events")
            guard.records((e.get("uuid") for e in data if isinstance(e, dict)), locator)
            next_url = response.links.get("next", {}).get("url")
            if data:
                page, latest = self._page(data, locator, latest)
                yield page
            elif polling:
                return  # Okta links onward forever; nothing new has been published
            url, params = next_url, {}

    def _page(self, events: list[Any], locator: str, latest: str | None) -> tuple[Page, str | None]:
        page = Page(locator=locator)
        for event in events:
            try:
                published = fields.instant(event, "published")
                row = {
                    "event_uuid": fields.text(event, "uuid"),
                    "published_at": published,
                    "event_type": fields.text(event, "eventType"),
                    "payload": minimised(event),
                }
            except fields.UNREADABLE as exc:
                shown = minimised(event) if isinstance(event, dict) else event
                fields.reject(page, STREAM, locator, "event", exc, shown)
                continue
            page.add("okta_system_log", row)
            if latest is None or parse_instant(published) > parse_instant(latest):
                latest = published
        if latest:
            page.cursors[STREAM] = latest
        return page, latest
