"""Okta System Log: `GET /api/v1/logs`, polled forward from a cursor.

Pages follow the `Link: rel="next"` header. Without `until`, Okta always
returns a next link, so an empty page ends the loop. Only SSO events matter
to adoption; the filter asks Okta for just those.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ingestion.http import SourceSession
from ingestion.pages import Page, Rejected, SourceError
from ingestion.timeparse import parse_instant, to_iso

SOURCE = "okta"
SSO_FILTER = 'eventType eq "user.authentication.sso"'


@dataclass
class OktaConnector:
    session: SourceSession
    overlap: timedelta = timedelta(minutes=5)
    page_size: int = 1000
    initial_lookback: timedelta = timedelta(days=90)  # Okta keeps 90 days

    def log_pages(self, cursor: str | None, default_since: str | None = None) -> Iterator[Page]:
        params: dict[str, Any] = {
            "limit": self.page_size,
            "sortOrder": "ASCENDING",
            "filter": SSO_FILTER,
        }
        if cursor:
            params["since"] = to_iso(parse_instant(cursor) - self.overlap)
        elif default_since:
            params["since"] = default_since
        url: str | None = "/api/v1/logs"
        latest = cursor
        number = 0
        while url:
            number += 1
            data, response = self.session.json("GET", url, params=params)
            if not isinstance(data, list):
                raise SourceError(SOURCE, response.url, "expected a JSON list of events")
            if not data:
                return
            page = Page(locator=f"{response.url}#page={number}")
            for event in data:
                try:
                    published = to_iso(parse_instant(event["published"]))
                    page.add(
                        "okta_system_log",
                        {
                            "event_uuid": event["uuid"],
                            "published_at": published,
                            "event_type": event["eventType"],
                            "payload": event,
                        },
                    )
                except (KeyError, TypeError, ValueError) as exc:
                    page.rejected.append(
                        Rejected(
                            "system_log",
                            page.locator,
                            f"event lacks a readable {exc}",
                            json.dumps(event)[:10000],
                        )
                    )
                    continue
                if latest is None or published > latest:
                    latest = published
            if latest:
                page.cursors["system_log"] = latest
            yield page
            url = response.links.get("next", {}).get("url")
            params = {}
