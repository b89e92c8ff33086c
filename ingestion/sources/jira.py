"""Jira Cloud REST v3: issues with their complete status history.

Pages come from `POST /rest/api/3/search/jql` (`nextPageToken` / `isLast`;
the older `startAt` / `total` paging is accepted too). When an issue's
`changelog.total` is larger than the histories embedded in the page (a cap
that differs between endpoints and over time), the rest is read from
`GET /rest/api/3/issue/{key}/changelog`, oldest first. Statuses are landed by
id with their category key: names are localised and get renamed.

Incremental runs ask for `updated >= cursor - overlap`, newest first, the
cursor riding on the last page (see paging.py). JQL dates are read in the
API user's time zone, so the bound is written in the zone
`/rest/api/3/myself` reports (or widened to cover any zone when it is hidden).

`fields` holds what the marts read. The description is left out on purpose:
it is Atlassian Document Format, often the largest part of an issue, and no
mart uses it. Assignees may be null or deactivated users (no email): the
payload is landed as it is and dbt falls back on the roster's account ids.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ingestion.http import SourceSession
from ingestion.pages import Page, SourceError
from ingestion.sources import fields
from ingestion.sources.page_guard import PageGuard
from ingestion.sources.paging import cursor_on_last_page
from ingestion.sources.read_ahead import read_ahead
from ingestion.timeparse import parse_instant

log = logging.getLogger(__name__)

SOURCE = "jira"
UNKNOWN_ZONE_MARGIN = timedelta(hours=14)
SPRINT_SCHEMA = "com.pyxis.greenhopper.jira:gh-sprint"
# The deletion sweep's page size (ids only: Jira's largest pages).
SWEEP_PAGE_SIZE = 5000
BASE_FIELDS = (
    "summary",
    "issuetype",
    "project",
    "status",
    "resolution",
    "resolutiondate",
    "created",
    "updated",
    "duedate",
    "labels",
    "assignee",
)


@dataclass
class JiraConnector:
    session: SourceSession
    jql: str = ""
    page_size: int = 100
    overlap: timedelta = timedelta(minutes=60)
    # The API user's IANA zone; None: ask /rest/api/3/myself when first needed.
    time_zone: str | None = None
    # Search pages are token-chained, so one at a time, but read this many
    # ahead of the one being landed; truncated changelogs of a page are read
    # by this many requests at once (Jira Cloud allows far more).
    read_ahead_pages: int = 4
    changelog_workers: int = 4

    # -- reference data -------------------------------------------------------
    def status_page(self) -> Page:
        statuses, response = self.session.json("GET", "/rest/api/3/status")
        page = Page(locator=response.url)
        for status in statuses:
            page.add(
                "jira_statuses",
                {
                    "status_id": str(status["id"]),
                    "status_name": status.get("name", ""),
                    "status_category_key": status["statusCategory"]["key"],
                    "payload": status,
                },
            )
        return page

    def sprint_field_id(self) -> str | None:
        """The sprint custom field, found by its schema rather than a fixed id."""
        fields, _ = self.session.json("GET", "/rest/api/3/field")
        for field in fields:
            if (field.get("schema") or {}).get("custom") == SPRINT_SCHEMA:
                return field["id"]
        return None

    # -- issues ---------------------------------------------------------------
    def user_time_zone(self) -> ZoneInfo | None:
        """The API user's zone, in which Jira reads the dates of a JQL query.

        Asked once from `/rest/api/3/myself`; None when Jira does not say
        (the profile hides it) or names a zone this machine does not know.
        """
        if self.time_zone is None:
            data, _ = self.session.json("GET", "/rest/api/3/myself")
            self.time_zone = (data.get("timeZone") if isinstance(data, dict) else None) or ""
        try:
            return ZoneInfo(self.time_zone) if self.time_zone else None
        except (ZoneInfoNotFoundError, ValueError):
            log.warning("jira: unknown time zone %r; widening the incremental window", self.time_zone)
            return None

    def _scope(self) -> str:
        return f"({self.jql})" if self.jql.strip() else "created is not EMPTY"

    def search_jql(self, cursor: str | None) -> str:
        """The configured scope, updated since the cursor minus the overlap, newest first.

        Newest first, because an issue updated mid-run then moves ahead of
        the pages still to read instead of pulling one back unread (paging.py).
        """
        where = self._scope()
        if cursor:
            since = parse_instant(cursor) - self.overlap
            zone = self.user_time_zone()
            if zone is None:
                # Jira reads the date in a zone we do not know: start early
                # enough for any zone (offsets run from -12 to +14 hours).
                since -= UNKNOWN_ZONE_MARGIN
                zone = UTC
            # JQL takes minutes in the user's zone; truncating them only widens.
            where += f' AND updated >= "{since.astimezone(zone):%Y-%m-%d %H:%M}"'
        return f"{where} ORDER BY updated DESC"

    def _search(self, body: dict[str, Any]) -> Iterator[tuple[dict, str, bool]]:
        """Every page of a search: (data, locator, is_last).

        `nextPageToken` / `isLast` paging (the last page may omit the token key
        entirely), or the older `startAt` / `maxResults` / `total`.
        """
        body = dict(body)
        guard = PageGuard(SOURCE, "search")
        while True:
            request = f"nextPageToken={body.get('nextPageToken')}&startAt={body.get('startAt', 0)}"
            data, response = self.session.json("POST", "/rest/api/3/search/jql", json=body)
            locator = f"{response.url}#page={guard.number + 1}"
            guard.next_page(request, locator)
            if not isinstance(data, dict) or not isinstance(data.get("issues"), list):
                raise SourceError(SOURCE, locator, "search page has no 'issues' list")
            guard.records((i.get("id") for i in data["issues"] if isinstance(i, dict)), locator)
            next_token = data.get("nextPageToken")
            if "isLast" in data or "nextPageToken" in data:
                is_last = bool(data.get("isLast")) or not next_token
                body["nextPageToken"] = next_token
            else:
                # The server may cap the page size below the one asked for: its own figure counts.
                size = int(data.get("maxResults") or body.get("maxResults") or 50)
                guard.reported_total(data.get("total"), size, "total")
                start = int(data.get("startAt", body.get("startAt", 0))) + len(data["issues"])
                is_last = not data["issues"] or start >= int(data.get("total", 0))
                body["startAt"] = start
            yield data, locator, is_last
            if is_last:
                return

    def issue_pages(self, cursor: str | None, fields: tuple[str, ...] = BASE_FIELDS) -> Iterator[Page]:
        """One Page per search page; the last carries the cursor (the latest `updated` seen)."""
        body: dict[str, Any] = {
            "jql": self.search_jql(cursor),
            "fields": list(fields),
            "expand": "changelog",
            "maxResults": self.page_size,
        }
        return cursor_on_last_page(self._issue_pages(body), "issues", cursor)

    def _issue_pages(self, body: dict[str, Any]) -> Iterator[tuple[Page, str | None, bool]]:
        with ThreadPoolExecutor(self.changelog_workers, thread_name_prefix="jira-changelog") as pool:
            # Changelogs are asked for in the read-ahead thread, pages before they are needed.
            searches = read_ahead(self._with_changelogs(body, pool), self.read_ahead_pages, "jira-search")
            for data, locator, is_last, full in searches:
                page = Page(locator=locator)
                url = locator.split("#", 1)[0]
                latest: str | None = None
                for issue in data["issues"]:
                    updated = self._land_issue(page, issue, locator, url, full)
                    if updated and (latest is None or updated > latest):
                        latest = updated
                yield page, latest, is_last

    def _with_changelogs(
        self, body: dict[str, Any], pool: ThreadPoolExecutor
    ) -> Iterator[tuple[dict, str, bool, dict[str, Future[list[dict]]]]]:
        """Search pages, each with its truncated changelogs already being read."""
        for data, locator, is_last in self._search(body):
            full = {
                key: pool.submit(lambda k: list(self._full_changelog(k)), key)
                for key in map(_truncated_changelog_key, data["issues"])
                if key
            }
            yield data, locator, is_last, full

    def issue_ids(self) -> Iterator[list[str]]:
        """The ids of every issue in scope, a page at a time (the deletion sweep).

        Only ids are asked for, which lets Jira answer with its largest pages.
        """
        jql = self._scope() + " ORDER BY created ASC"
        body = {"jql": jql, "fields": ["id"], "maxResults": SWEEP_PAGE_SIZE}
        for data, _locator, _ in self._search(body):
            # An issue without a readable id was quarantined when it landed: the sweep passes over it.
            ids = []
            for issue in data["issues"]:
                try:
                    ids.append(fields.text(issue, "id"))
                except fields.Unreadable:
                    continue
            yield ids

    def _land_issue(
        self, page: Page, issue: dict, locator: str, url: str, full: dict[str, Future[list[dict]]]
    ) -> str | None:
        try:
            updated = fields.instant(issue, "fields.updated")
            issue_id = fields.text(issue, "id")
            key = fields.text(issue, "key")
            project_key = fields.text(issue, "fields.project.key")
            changelog = issue.get("changelog") or {}
            histories = list(changelog.get("histories") or [])
            total = changelog.get("total")
            total = None if total is None else fields.integer(changelog, "total")
        except fields.UNREADABLE as exc:
            key_shown = issue.get("key", "?") if isinstance(issue, dict) else "?"
            fields.reject(page, "issues", f"{locator}:{key_shown}", "issue", exc, issue)
            return None
        if key in full:
            histories = full[key].result()
        payload = {k: v for k, v in issue.items() if k != "changelog"}
        page.add(
            "jira_issues",
            {
                "issue_id": issue_id,
                "issue_key": key,
                "project_key": project_key,
                "updated_at": updated,
                "changelog_total": total if total is not None else len(histories),
                "payload": payload,
                "_source_url": url,
                "is_deleted": False,
                "deleted_at": None,
            },
        )
        for history in histories:
            try:
                row = {
                    "history_id": fields.text(history, "id"),
                    "issue_id": issue_id,
                    "created_at": fields.instant(history, "created"),
                    "payload": history,
                }
            except fields.UNREADABLE as exc:
                # The issue and its other histories land; the changelog-completeness test then
                # says this issue's history is short, and rejected_records says why.
                fields.reject(page, "changelogs", f"{locator}:{key}", "changelog history", exc, history)
                continue
            page.add("jira_changelogs", row)
        return updated

    def _full_changelog(self, key: str) -> Iterator[dict]:
        """Every history of one issue, oldest first, a changelog page at a time."""
        start = 0
        guard = PageGuard(SOURCE, f"changelog of {key}")
        while True:
            data, response = self.session.json(
                "GET",
                f"/rest/api/3/issue/{key}/changelog",
                params={"startAt": start, "maxResults": 100} if start else {"maxResults": 100},
            )
            guard.next_page(str(start), response.url)
            values = data.get("values") if isinstance(data, dict) else None
            if values is None:
                raise SourceError(SOURCE, response.url, "changelog page has no 'values'")
            guard.reported_total(data.get("total"), int(data.get("maxResults") or 100), "changelog total")
            if int(data.get("startAt", start)) != start:
                # A server that ignores startAt would repeat page one forever.
                raise SourceError(SOURCE, response.url, f"asked for startAt={start}, got {data['startAt']}")
            yield from values
            start += len(values)
            if not values:
                return
            if "isLast" in data:
                if data["isLast"]:
                    return
            elif start >= int(data.get("total", start)):
                return


def _truncated_changelog_key(issue: Any) -> str | None:
    """The key of an issue whose page holds only part of its changelog."""
    try:
        changelog = issue.get("changelog") or {}
        total = changelog.get("total")
        if total is not None and int(total) > len(changelog.get("histories") or []):
            return str(issue["key"])
    except (AttributeError, KeyError, TypeError, ValueError):
        pass  # a malformed issue is rejected when it is landed
    return None
