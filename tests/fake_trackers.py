"""Fake Jira Cloud, GitHub and Linear APIs for pytest-httpserver, in the real formats.

Each fake keeps its items in memory and answers the way the real service
does: Jira's enhanced search (`nextPageToken` / `isLast`, the last page
without a token; or the older `startAt` / `total`), JQL `updated >=` read in
the API user's time zone, embedded changelogs capped below their total,
`/issue/{key}/changelog` pages; GitHub's `since` / `Link` paging (later
pages in the `/repositories/{id}/` form) and newest-first issue events;
Linear's GraphQL connection with `pageInfo` and `updatedAt` filtering.

Every request is recorded (`router.requests`), and one-shot faults can be
queued per method and path prefix: an HTTP status with headers, a slow
answer (for client timeouts) or a body that is not JSON.
"""

from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from werkzeug import Request, Response

JIRA_SITE = "https://acme.atlassian.net"
GH_API = "https://api.github.com"


def instant(value: str) -> datetime:
    """Parse the instants these APIs write (Jira's +0200, ISO Z) to UTC."""
    text = value.replace("Z", "+00:00")
    if re.search(r"[+-]\d{4}$", text):
        text = text[:-2] + ":" + text[-2:]
    return datetime.fromisoformat(text).astimezone(UTC)


@dataclass
class Fault:
    method: str
    path_prefix: str
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: str = '{"message": "fault"}'
    delay: float = 0.0  # seconds before answering (a client timeout)
    then_serve: bool = False  # after the delay, answer normally


@dataclass
class Recorded:
    method: str
    path: str
    args: dict[str, str]
    json: Any
    headers: dict[str, str]


class Router:
    """One catch-all handler dispatching to the fakes by path."""

    def __init__(self, httpserver):
        self.httpserver = httpserver
        self.routes: list[tuple[str, re.Pattern, Any]] = []
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        httpserver.expect_request(re.compile(".*")).respond_with_handler(self)

    @property
    def base_url(self) -> str:
        return self.httpserver.url_for("/").rstrip("/")

    def route(self, method: str, pattern: str, handler) -> None:
        self.routes.append((method, re.compile(pattern + "$"), handler))

    def fail_next(self, method: str, path_prefix: str, **kwargs: Any) -> None:
        self.faults.append(Fault(method, path_prefix, **kwargs))

    def calls(self, method: str, path_prefix: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    def __call__(self, request: Request) -> Response:
        body = request.get_json(silent=True) if request.data else None
        self.requests.append(
            Recorded(request.method, request.path, dict(request.args), body, dict(request.headers))
        )
        for fault in self.faults:
            if request.method == fault.method and request.path.startswith(fault.path_prefix):
                self.faults.remove(fault)
                if fault.delay:
                    time.sleep(fault.delay)
                if not fault.then_serve:
                    return Response(
                        fault.body,
                        status=fault.status,
                        headers=fault.headers,
                        content_type="application/json",
                    )
                break
        for method, pattern, handler in self.routes:
            match = pattern.match(request.path)
            if match and method == request.method:
                return handler(request, **match.groupdict())
        return Response(json.dumps({"message": "Not Found"}), status=404, content_type="application/json")


class Crash(BaseException):
    """The process dying between two pages."""


def crash_after(pages, count: int):
    """The pages, until the process dies before page `count` + 1 is landed."""
    for number, page in enumerate(pages):
        if number == count:
            raise Crash
        yield page


def json_response(data: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(data), headers=headers or {}, content_type="application/json")


# --------------------------------------------------------------------- Jira


JIRA_CATEGORIES = {
    "new": {"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"},
    "indeterminate": {"id": 4, "key": "indeterminate", "colorName": "yellow", "name": "In Progress"},
    "done": {"id": 3, "key": "done", "colorName": "green", "name": "Done"},
}


def jira_status(status_id: str, name: str, category: str) -> dict:
    return {
        "self": f"{JIRA_SITE}/rest/api/3/status/{status_id}",
        "description": "",
        "iconUrl": f"{JIRA_SITE}/images/icons/statuses/generic.png",
        "name": name,
        "untranslatedName": name,
        "id": status_id,
        "statusCategory": {
            "self": f"{JIRA_SITE}/rest/api/3/statuscategory/{JIRA_CATEGORIES[category]['id']}",
            **JIRA_CATEGORIES[category],
        },
    }


def jira_user(account_id: str, name: str, email: str | None, *, active: bool = True) -> dict:
    user = {
        "self": f"{JIRA_SITE}/rest/api/3/user?accountId={account_id}",
        "accountId": account_id,
        "displayName": name,
        "active": active,
        "timeZone": "Europe/Paris",
        "accountType": "atlassian",
    }
    if email is not None:
        user["emailAddress"] = email
    return user


def jira_history(history_id: str, created: str, items: list[dict]) -> dict:
    return {
        "id": history_id,
        "author": jira_user("acc-alice", "Alice Martin", "alice@example.com"),
        "created": created,
        "items": items,
    }


def jira_status_item(from_id: str, from_name: str, to_id: str, to_name: str) -> dict:
    return {
        "field": "status",
        "fieldtype": "jira",
        "fieldId": "status",
        "from": from_id,
        "fromString": from_name,
        "to": to_id,
        "toString": to_name,
    }


@dataclass
class JiraIssue:
    id: str
    key: str
    fields: dict[str, Any]
    histories: list[dict] = field(default_factory=list)

    @property
    def updated(self) -> datetime:
        return instant(self.fields["updated"])


SPRINT_FIELD = {
    "id": "customfield_10020",
    "key": "customfield_10020",
    "name": "Sprint",
    "custom": True,
    "orderable": True,
    "navigable": True,
    "searchable": True,
    "clauseNames": ["cf[10020]", "Sprint"],
    "schema": {
        "type": "array",
        "items": "json",
        "custom": "com.pyxis.greenhopper.jira:gh-sprint",
        "customId": 10020,
    },
}


class FakeJira:
    def __init__(
        self,
        router: Router,
        *,
        statuses: list[dict],
        issues: list[JiraIssue],
        time_zone: str | None = "Europe/Paris",
        page_size: int = 2,
        embedded_histories: int = 2,
        changelog_page_size: int = 2,
        legacy_paging: bool = False,
    ):
        self.router = router
        self.statuses = statuses
        self.issues = {issue.id: issue for issue in issues}
        self.time_zone = time_zone
        self.page_size = page_size
        self.embedded_histories = embedded_histories
        self.changelog_page_size = changelog_page_size
        self.legacy_paging = legacy_paging
        self.bad_page: int | None = None  # answer this search page with broken JSON
        router.route("GET", "/rest/api/3/status", lambda r: json_response(self.statuses))
        router.route("GET", "/rest/api/3/field", lambda r: json_response([SPRINT_FIELD, {"id": "summary"}]))
        router.route("GET", "/rest/api/3/myself", self.myself)
        router.route("POST", "/rest/api/3/search/jql", self.search)
        router.route("GET", r"/rest/api/3/issue/(?P<key>[A-Z]+-\d+)/changelog", self.changelog)

    @property
    def searches(self) -> list[dict]:
        return [r.json for r in self.router.calls("POST", "/rest/api/3/search/jql")]

    def myself(self, request: Request) -> Response:
        user = jira_user("acc-api", "Pipeline Bot", "bot@example.com")
        if self.time_zone is None:
            user.pop("timeZone")
        else:
            user["timeZone"] = self.time_zone
        return json_response({**user, "locale": "en_US"})

    def _matching(self, jql: str) -> list[JiraIssue]:
        issues = list(self.issues.values())
        bound = re.search(r'updated >= "(\d{4}-\d\d-\d\d \d\d:\d\d)"', jql)
        if bound:
            zone = ZoneInfo(self.time_zone or "UTC")
            since = datetime.strptime(bound.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=zone)
            issues = [i for i in issues if i.updated >= since]
        if "ORDER BY updated" in jql:
            issues.sort(key=lambda i: (i.updated, int(i.id)), reverse="ORDER BY updated DESC" in jql)
        else:
            issues.sort(key=lambda i: int(i.id))
        return issues

    def _render(self, issue: JiraIssue, fields: list[str], expand: str) -> dict:
        if fields == ["id"]:
            return {"id": issue.id}
        rendered = {
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
            "id": issue.id,
            "self": f"{JIRA_SITE}/rest/api/3/issue/{issue.id}",
            "key": issue.key,
            "fields": {name: issue.fields.get(name) for name in fields},
        }
        if "changelog" in expand:
            embedded = issue.histories[: self.embedded_histories]
            rendered["changelog"] = {
                "startAt": 0,
                "maxResults": len(embedded),
                "total": len(issue.histories),
                "histories": embedded,
            }
        return rendered

    def search(self, request: Request) -> Response:
        body = request.get_json()
        matching = self._matching(body["jql"])
        size = min(int(body.get("maxResults", 50)), self.page_size)
        if self.legacy_paging:
            start = int(body.get("startAt", 0))
        else:
            token = body.get("nextPageToken")
            start = int(base64.b64decode(token).decode().split(":")[1]) if token else 0
        number = start // size + 1
        if self.bad_page == number:
            return Response('{"issues": [{"id": "1', content_type="application/json")
        chunk = matching[start : start + size]
        issues = [self._render(i, body.get("fields", ["id"]), body.get("expand", "")) for i in chunk]
        if self.legacy_paging:
            return json_response(
                {
                    "expand": "schema,names",
                    "startAt": start,
                    "maxResults": size,
                    "total": len(matching),
                    "issues": issues,
                }
            )
        page: dict[str, Any] = {"issues": issues}
        if start + size < len(matching):
            page["nextPageToken"] = base64.b64encode(f"offset:{start + size}".encode()).decode()
            page["isLast"] = False
        else:
            page["isLast"] = True  # and no nextPageToken key at all, as Jira does
        return json_response(page)

    def changelog(self, request: Request, key: str) -> Response:
        issue = next(i for i in self.issues.values() if i.key == key)
        start = int(request.args.get("startAt", 0))
        size = min(int(request.args.get("maxResults", 100)), self.changelog_page_size)
        values = issue.histories[start : start + size]
        is_last = start + size >= len(issue.histories)
        page = {
            "self": f"{JIRA_SITE}/rest/api/3/issue/{key}/changelog?maxResults={size}&startAt={start}",
            "maxResults": size,
            "startAt": start,
            "total": len(issue.histories),
            "isLast": is_last,
            "values": values,
        }
        if not is_last:
            page["nextPage"] = (
                f"{JIRA_SITE}/rest/api/3/issue/{key}/changelog?maxResults={size}&startAt={start + size}"
            )
        return json_response(page)


# ------------------------------------------------------------------- GitHub


def gh_user(login: str, user_id: int) -> dict:
    return {
        "login": login,
        "id": user_id,
        "node_id": f"U_{user_id}",
        "type": "User",
        "site_admin": False,
        "url": f"{GH_API}/users/{login}",
    }


def gh_issue(
    issue_id: int,
    repo: str,
    number: int,
    *,
    created_at: str,
    updated_at: str | None = None,
    state: str = "open",
    state_reason: str | None = None,
    closed_at: str | None = None,
    assignee: str | None = None,
    labels: tuple[str, ...] = (),
    milestone_due_on: str | None = None,
    pull_request: bool = False,
) -> dict:
    payload = {
        "url": f"{GH_API}/repos/{repo}/issues/{number}",
        "repository_url": f"{GH_API}/repos/{repo}",
        "html_url": f"https://github.com/{repo}/issues/{number}",
        "id": issue_id,
        "node_id": f"I_{issue_id}",
        "number": number,
        "title": f"Issue {number}",
        "user": gh_user("octo-bot", 199),
        "labels": [
            {"id": 100 + i, "name": name, "color": "ededed", "default": False}
            for i, name in enumerate(labels)
        ],
        "state": state,
        "locked": False,
        "assignee": gh_user(assignee, 104) if assignee else None,
        "assignees": [gh_user(assignee, 104)] if assignee else [],
        "milestone": None,
        "comments": 0,
        "created_at": created_at,
        "updated_at": updated_at or closed_at or created_at,
        "closed_at": closed_at,
        "author_association": "MEMBER",
        "state_reason": state_reason,
        "body": None,
    }
    if milestone_due_on:
        payload["milestone"] = {"id": 3001, "number": 1, "title": "Sprint 10", "due_on": milestone_due_on}
    if pull_request:
        payload["pull_request"] = {
            "url": f"{GH_API}/repos/{repo}/pulls/{number}",
            "html_url": f"https://github.com/{repo}/pull/{number}",
            "merged_at": closed_at,
        }
    return payload


def gh_event(event_id: int, issue: dict, event: str, created_at: str, **extra: Any) -> dict:
    payload = {
        "id": event_id,
        "node_id": f"E_{event_id}",
        "url": f"{issue['repository_url']}/issues/events/{event_id}",
        "actor": gh_user("carol-gh", 103),
        "event": event,
        "commit_id": None,
        "created_at": created_at,
        "issue": {"id": issue["id"], "number": issue["number"], "url": issue["url"]},
    }
    if "assignee" in extra:
        payload["assignee"] = gh_user(extra["assignee"], 104)
    if "label" in extra:
        payload["label"] = {"name": extra["label"], "color": "ededed"}
    if "state_reason" in extra:
        payload["state_reason"] = extra["state_reason"]
    return payload


class FakeGitHub:
    def __init__(self, router: Router, *, repo_ids: dict[str, int], page_size: int = 2):
        self.router = router
        self.repo_ids = repo_ids
        self.page_size = page_size
        self.issues: dict[str, list[dict]] = {repo: [] for repo in repo_ids}
        self.events: dict[str, list[dict]] = {repo: [] for repo in repo_ids}
        self.after_issue_page: Any = None  # called with (page number, items served) after each page
        router.route("GET", r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)/issues", self.list_issues)
        router.route("GET", r"/repositories/(?P<repo_id>\d+)/issues", self.list_issues)
        router.route("GET", r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)/issues/events", self.list_events)
        router.route("GET", r"/repositories/(?P<repo_id>\d+)/issues/events", self.list_events)

    def _repo(self, owner=None, name=None, repo_id=None) -> str:
        if repo_id is not None:
            return next(r for r, i in self.repo_ids.items() if i == int(repo_id))
        return f"{owner}/{name}"

    def issue_requests(self, repo: str) -> list[Recorded]:
        return [
            r for r in self.router.calls("GET", f"/repos/{repo}/issues") if not r.path.endswith("/events")
        ]

    def _page(self, request: Request, repo: str, items: list[dict], suffix: str) -> Response:
        page = int(request.args.get("page", 1))
        size = min(int(request.args.get("per_page", 30)), self.page_size)
        chunk = items[(page - 1) * size : page * size]
        headers = {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "4990",
            "x-ratelimit-reset": str(int(time.time()) + 3600),
        }
        if page * size < len(items):
            args = {k: v for k, v in request.args.items() if k != "page"}
            query = urlencode({**args, "page": page + 1})
            next_url = f"{self.router.base_url}/repositories/{self.repo_ids[repo]}/{suffix}?{query}"
            headers["Link"] = f'<{next_url}>; rel="next"'
        return json_response(chunk, headers)

    def list_issues(self, request: Request, owner=None, name=None, repo_id=None) -> Response:
        repo = self._repo(owner, name, repo_id)
        items = list(self.issues[repo])
        if "since" in request.args:
            since = instant(request.args["since"])
            items = [i for i in items if instant(i["updated_at"]) >= since]
        descending = request.args.get("direction", "desc") == "desc"
        items.sort(key=lambda i: (instant(i["updated_at"]), i["id"]), reverse=descending)
        response = self._page(request, repo, items, "issues")
        if self.after_issue_page is not None:
            self.after_issue_page(int(request.args.get("page", 1)), response.get_json())
        return response

    def list_events(self, request: Request, owner=None, name=None, repo_id=None) -> Response:
        repo = self._repo(owner, name, repo_id)
        # Newest first (GitHub's event ids grow with time).
        items = sorted(self.events[repo], key=lambda e: (instant(e["created_at"]), e["id"]), reverse=True)
        return self._page(request, repo, items, "issues/events")


# ------------------------------------------------------------------- Linear


def linear_issue(
    issue_id: str,
    identifier: str,
    *,
    created_at: str,
    updated_at: str,
    state: tuple[str, str, str],
    started_at: str | None = None,
    completed_at: str | None = None,
    canceled_at: str | None = None,
    due_date: str | None = None,
    assignee_email: str | None = None,
    labels: tuple[str, ...] = (),
    trashed: bool = False,
) -> dict:
    state_id, state_name, state_type = state
    return {
        "id": issue_id,
        "identifier": identifier,
        "title": f"Issue {identifier}",
        "priority": 2,
        "estimate": None,
        "createdAt": created_at,
        "updatedAt": updated_at,
        "startedAt": started_at,
        "completedAt": completed_at,
        "canceledAt": canceled_at,
        "archivedAt": updated_at if trashed else None,
        "trashed": trashed or None,
        "dueDate": due_date,
        "team": {
            "id": "7ea40000-0000-4000-8000-000000000001",
            "key": identifier.split("-")[0],
            "name": "Eng",
        },
        "state": {"id": state_id, "name": state_name, "type": state_type},
        "assignee": {"id": f"u-{assignee_email}", "email": assignee_email} if assignee_email else None,
        "labels": {"nodes": [{"id": f"l-{name}", "name": name} for name in labels]},
    }


class FakeLinear:
    def __init__(self, router: Router, *, issues: list[dict], page_size: int = 2):
        self.router = router
        self.issues = {issue["id"]: issue for issue in issues}
        self.page_size = page_size
        router.route("POST", "/graphql", self.graphql)

    @property
    def queries(self) -> list[dict]:
        return [r.json for r in self.router.calls("POST", "/graphql")]

    def graphql(self, request: Request) -> Response:
        body = request.get_json()
        query, variables = body["query"], body.get("variables") or {}
        issues = list(self.issues.values())
        gte = ((variables.get("filter") or {}).get("updatedAt") or {}).get("gte")
        if gte:
            issues = [i for i in issues if instant(i["updatedAt"]) >= instant(gte)]
        if "orderBy: updatedAt" in query:  # newest first, as Linear lists them
            issues.sort(key=lambda i: (instant(i["updatedAt"]), i["id"]), reverse=True)
        else:
            issues.sort(key=lambda i: (instant(i["createdAt"]), i["id"]), reverse=True)
        after = variables.get("after")
        start = int(base64.b64decode(after).decode()) if after else 0
        size = min(int(variables["first"]), self.page_size)
        chunk = issues[start : start + size]
        if "nodes { id trashed }" in query:
            nodes = [{"id": i["id"], "trashed": i["trashed"]} for i in chunk]
        else:
            nodes = chunk
        has_next = start + size < len(issues)
        end = base64.b64encode(str(start + size).encode()).decode() if chunk else None
        return json_response(
            {"data": {"issues": {"nodes": nodes, "pageInfo": {"hasNextPage": has_next, "endCursor": end}}}},
            headers={
                "X-RateLimit-Requests-Limit": "5000",
                "X-RateLimit-Requests-Remaining": "4999",
                "X-RateLimit-Requests-Reset": str(int(time.time() * 1000) + 3_600_000),
            },
        )
