"""Linear GraphQL: issues updated since the cursor, a page at a time.

`issues(first, after, filter: {updatedAt: {gte: …}}, orderBy: updatedAt,
includeArchived: true)` is paged by `pageInfo { hasNextPage endCursor }`.
Archived issues are included: Linear archives closed issues automatically
after a while, and they still count. Trashed issues land flagged deleted.

Linear lists by `updatedAt` newest first, so the cursor (the latest
`updatedAt` seen) rides on the last page only (see paging.py).

A GraphQL `errors` array (with HTTP 200 or 400) becomes a `SourceError`
naming the messages and codes; Linear's `RATELIMITED` is waited out by the
HTTP session like any rate limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ingestion.http import SourceSession
from ingestion.pages import Page, SourceError
from ingestion.sources import fields
from ingestion.sources.page_guard import PageGuard
from ingestion.sources.paging import cursor_on_last_page
from ingestion.timeparse import parse_instant, to_iso

SOURCE = "linear"

# What stg_linear__issues reads, plus a few fields worth keeping.
ISSUE_FIELDS = """
      id
      identifier
      title
      priority
      estimate
      createdAt
      updatedAt
      startedAt
      completedAt
      canceledAt
      archivedAt
      trashed
      dueDate
      team { id key name }
      state { id name type }
      assignee { id email }
      labels(first: 20) { nodes { id name } }
"""

ISSUES_QUERY = (
    """
query Issues($first: Int!, $after: String, $filter: IssueFilter) {
  issues(first: $first, after: $after, filter: $filter, orderBy: updatedAt, includeArchived: true) {
    nodes {"""
    + ISSUE_FIELDS
    + """    }
    pageInfo { hasNextPage endCursor }
  }
}
"""
)

IDS_QUERY = """
query IssueIds($first: Int!, $after: String) {
  issues(first: $first, after: $after, includeArchived: true) {
    nodes { id trashed }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def graphql_errors(data: Any) -> str | None:
    """The errors of a GraphQL answer as one line, or None."""
    if not isinstance(data, dict) or not data.get("errors"):
        return None
    parts = []
    for error in data["errors"]:
        if not isinstance(error, dict):
            parts.append(str(error))
            continue
        code = (error.get("extensions") or {}).get("code")
        message = error.get("message", "unknown error")
        parts.append(f"{message} [{code}]" if code else message)
    return "; ".join(parts)


@dataclass
class LinearConnector:
    session: SourceSession
    page_size: int = 100  # keeps a page's query complexity well under Linear's cap
    overlap: timedelta = timedelta(minutes=60)

    def _query(self, query: str, variables: dict[str, Any]) -> tuple[dict, str]:
        """The `issues` connection of one GraphQL answer, and the URL asked."""
        data, response = self.session.json(
            "POST",
            self.session.base_url,
            json={"query": query, "variables": variables},
            accept_status=(400,),
        )
        errors = graphql_errors(data)
        if errors:
            quoted = self.session.scrub(errors)  # servers echo what they were sent
            raise SourceError(SOURCE, response.url, f"GraphQL error (HTTP {response.status_code}): {quoted}")
        if response.status_code >= 400:
            raise SourceError(SOURCE, response.url, f"HTTP {response.status_code} without GraphQL errors")
        try:
            connection = data["data"]["issues"]
            readable = isinstance(connection["nodes"], list) and "hasNextPage" in connection["pageInfo"]
        except (KeyError, TypeError):
            readable = False
        if not readable:
            raise SourceError(SOURCE, response.url, "answer has no data.issues nodes and pageInfo")
        return connection, response.url

    def _pages(self, query: str, variables: dict[str, Any]) -> Iterator[tuple[dict, str, bool]]:
        """Every page of a connection: (connection, url, is_last)."""
        after: str | None = None
        guard = PageGuard(SOURCE, "issues")
        while True:
            connection, url = self._query(query, {**variables, "after": after})
            locator = f"{url}#page={guard.number + 1}"
            guard.next_page(str(after), locator)
            guard.records((n.get("id") for n in connection["nodes"] if isinstance(n, dict)), locator)
            info = connection["pageInfo"]
            is_last = not info["hasNextPage"]
            if not is_last and not info.get("endCursor"):
                raise SourceError(SOURCE, url, "hasNextPage without an endCursor")
            yield connection, url, is_last
            if is_last:
                return
            after = info["endCursor"]

    def issue_pages(self, cursor: str | None) -> Iterator[Page]:
        variables: dict[str, Any] = {"first": self.page_size, "filter": None}
        if cursor:
            since = to_iso(parse_instant(cursor) - self.overlap)
            variables["filter"] = {"updatedAt": {"gte": since}}
        return cursor_on_last_page(self._issue_pages(variables), "issues", cursor)

    def _issue_pages(self, variables: dict[str, Any]) -> Iterator[tuple[Page, str | None, bool]]:
        for number, (connection, url, is_last) in enumerate(self._pages(ISSUES_QUERY, variables), 1):
            page = Page(locator=f"{url}#page={number}")
            latest: str | None = None
            for issue in connection["nodes"]:
                updated = self._land_issue(page, issue)
                if updated and (latest is None or updated > latest):
                    latest = updated
            yield page, latest, is_last

    def _land_issue(self, page: Page, issue: Any) -> str | None:
        try:
            updated = fields.instant(issue, "updatedAt")
            row = {
                "issue_id": fields.text(issue, "id"),
                "identifier": fields.text(issue, "identifier"),
                "team_key": fields.text(issue, "team.key"),
                "updated_at": updated,
                "payload": issue,
                "is_deleted": bool(issue.get("trashed")),
                "deleted_at": None,
            }
            if row["is_deleted"]:
                archived = issue.get("archivedAt")
                row["deleted_at"] = fields.instant(issue, "archivedAt") if archived is not None else updated
        except fields.UNREADABLE as exc:
            fields.reject(page, "issues", page.locator, "issue", exc, issue)
            return None
        page.add("linear_issues", row)
        return updated

    def issue_ids(self) -> Iterator[list[str]]:
        """Ids of every issue not in the trash, a page at a time (the deletion sweep)."""
        for connection, _, _ in self._pages(IDS_QUERY, {"first": 250}):
            # A node without a readable id was quarantined when it landed: the sweep passes over it.
            yield [
                str(node["id"])
                for node in connection["nodes"]
                if isinstance(node, dict) and node.get("id") and not node.get("trashed")
            ]
