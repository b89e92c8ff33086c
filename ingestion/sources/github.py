"""GitHub REST: issues (pull requests landed apart) and issue events, per repo.

`GET /repos/{owner}/{repo}/issues?state=all&since=…` pages are followed by
their `Link: rel="next"` header, whatever form its URL takes. Rows with a
`pull_request` key are pull requests: they land in their own table and never
become work items. Payloads land as returned: a `state_reason` outside the
published enum is data for dbt, not an error here. Issue events (assigned,
labeled, closed, reopened, ...) land whole; dbt reads start and reopen
times from them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ingestion.http import SourceSession
from ingestion.pages import Page, Rejected, SourceError
from ingestion.sources.page_guard import PageGuard, last_page_number
from ingestion.sources.paging import cursor_on_last_page
from ingestion.timeparse import parse_instant, to_iso

SOURCE = "github"


def _pages(session: SourceSession, path: str, params: dict[str, Any]) -> Iterator[tuple[list, str, bool]]:
    """Every page of a list endpoint, by `Link` header; yields (items, url, is_last)."""
    url: str | None = path
    guard = PageGuard(SOURCE, path)
    while url:
        data, response = session.json("GET", url, params=params)
        guard.next_page(response.url, response.url)
        if not isinstance(data, list):
            raise SourceError(SOURCE, response.url, "expected a JSON list")
        guard.records((item.get("id") for item in data if isinstance(item, dict)), response.url)
        last = last_page_number(response.links)
        if last is not None:
            guard.reported_pages(last, f'Link rel="last" is page {last}')
        url = response.links.get("next", {}).get("url")
        params = {}  # the next link carries every parameter
        yield data, response.url, url is None


@dataclass
class GitHubConnector:
    session: SourceSession
    overlap: timedelta = timedelta(minutes=60)

    def issue_pages(self, repo: str, cursor: str | None) -> Iterator[Page]:
        """Issues and pull requests updated since the cursor (minus overlap).

        Newest first, with the cursor on the last page (see paging.py): pages
        are numbered, so an issue updated mid-run moves in the list.
        """
        params: dict[str, Any] = {
            "state": "all",
            "per_page": 100,
            "sort": "updated",
            "direction": "desc",
        }
        if cursor:
            params["since"] = to_iso(parse_instant(cursor) - self.overlap)
        pages = _pages(self.session, f"/repos/{repo}/issues", params)
        read = (
            (*self._issue_page(repo, items, url, n), is_last)
            for n, (items, url, is_last) in enumerate(pages, 1)
        )
        return cursor_on_last_page(read, f"issues:{repo}", cursor)

    def _issue_page(self, repo: str, items: list, url: str, number: int) -> tuple[Page, str | None]:
        page = Page(locator=f"{url}#page={number}")
        latest: str | None = None
        for item in items:
            try:
                updated = to_iso(parse_instant(item["updated_at"]))
                row = {"repository": repo, "updated_at": updated, "payload": item, "_source_url": url}
                if "pull_request" in item:
                    page.add(
                        "github_pull_requests",
                        {"pull_request_id": int(item["id"]), "pr_number": int(item["number"]), **row},
                    )
                else:
                    page.add(
                        "github_issues",
                        {
                            "issue_id": int(item["id"]),
                            "issue_number": int(item["number"]),
                            **row,
                            "is_deleted": False,
                            "deleted_at": None,
                        },
                    )
            except (KeyError, TypeError, ValueError) as exc:
                page.rejected.append(
                    Rejected(
                        "issues", page.locator, f"issue lacks a readable {exc}", json.dumps(item)[:10000]
                    )
                )
                continue
            if latest is None or updated > latest:
                latest = updated
        return page, latest

    def event_pages(self, repo: str, cursor: str | None) -> Iterator[Page]:
        """Issue events, newest first; stops once past the cursor (minus overlap).

        The cursor rides on the last page (see paging.py).
        """
        return cursor_on_last_page(self._event_pages(repo, cursor), f"issue_events:{repo}", cursor)

    def _event_pages(self, repo: str, cursor: str | None) -> Iterator[tuple[Page, str | None, bool]]:
        stop_before = to_iso(parse_instant(cursor) - self.overlap) if cursor else None
        path = f"/repos/{repo}/issues/events"
        for number, (items, url, is_last) in enumerate(_pages(self.session, path, {"per_page": 100}), 1):
            page = Page(locator=f"{url}#page={number}")
            latest: str | None = None
            reached_cursor = False
            for item in items:
                try:
                    created = to_iso(parse_instant(item["created_at"]))
                    row = {
                        "event_id": int(item["id"]),
                        "repository": repo,
                        "issue_number": int(item["issue"]["number"]),
                        "event": item["event"],
                        "created_at": created,
                        "payload": item,
                    }
                except (KeyError, TypeError, ValueError) as exc:
                    page.rejected.append(
                        Rejected(
                            "issue_events",
                            page.locator,
                            f"event lacks a readable {exc}",
                            json.dumps(item)[:10000],
                        )
                    )
                    continue
                if stop_before and created < stop_before:
                    reached_cursor = True
                    continue
                page.add("github_issue_events", row)
                if latest is None or created > latest:
                    latest = created
            yield page, latest, is_last or reached_cursor
            if reached_cursor:
                return

    def issue_ids(self, repo: str) -> Iterator[list[int]]:
        """The ids of every issue of a repository (pull requests left out), a page at a time.

        GitHub has no key-only listing: this is the issues list without `since`.
        """
        params = {"state": "all", "per_page": 100}
        for items, url, _ in _pages(self.session, f"/repos/{repo}/issues", params):
            try:
                yield [int(item["id"]) for item in items if "pull_request" not in item]
            except (KeyError, TypeError, ValueError):
                raise SourceError(SOURCE, url, "an issue in the list has no id") from None
