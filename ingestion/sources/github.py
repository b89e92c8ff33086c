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

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ingestion.http import SourceSession
from ingestion.pages import Page, SourceError
from ingestion.sources import fields
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


def _readable_issue_ids(items: list) -> Iterator[int]:
    """Issue ids of a listing page. An item without a readable id was quarantined when it
    landed (it is not in raw), so the sweep passes over it rather than failing."""
    for item in items:
        if isinstance(item, dict) and "pull_request" not in item:
            try:
                yield fields.integer(item, "id")
            except fields.Unreadable:
                continue


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
                updated = fields.instant(item, "updated_at")
                row = {"repository": repo, "updated_at": updated, "payload": item, "_source_url": url}
                if isinstance(item, dict) and "pull_request" in item:
                    table, ids = "github_pull_requests", {"pull_request_id": "id", "pr_number": "number"}
                    extra = {}
                else:
                    table, ids = "github_issues", {"issue_id": "id", "issue_number": "number"}
                    extra = {"is_deleted": False, "deleted_at": None}
                keyed = {column: fields.integer(item, name) for column, name in ids.items()}
            except fields.UNREADABLE as exc:
                fields.reject(page, "issues", page.locator, "issue", exc, item)
                continue
            page.add(table, {**keyed, **row, **extra})
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
                    created = fields.instant(item, "created_at")
                    row = {
                        "event_id": fields.integer(item, "id"),
                        "repository": repo,
                        "issue_number": fields.integer(item, "issue.number"),
                        "event": fields.text(item, "event"),
                        "created_at": created,
                        "payload": item,
                    }
                except fields.UNREADABLE as exc:
                    fields.reject(page, "issue_events", page.locator, "event", exc, item)
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
        for items, _url, _ in _pages(self.session, f"/repos/{repo}/issues", params):
            yield list(_readable_issue_ids(items))
