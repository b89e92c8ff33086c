"""Bulk Jira Cloud recordings: the search pages and changelog pages of a big site.

The same format as `ingestion/demo/jira.py` writes (and the connector reads):
`POST /rest/api/3/search/jql` pages of 100 issues with their changelogs
(`nextPageToken` / `isLast`), statuses and fields, and for an issue with more
than 40 histories (the limit of the enhanced search), only the first 40 embedded and the whole history under
`GET /rest/api/3/issue/{key}/changelog` (pages of 25, `startAt`).

Every issue is a pure function of (seed, index), so the pages are written by
two worker processes in any order and the output stays deterministic. Work
items bounce between In Progress, Blocked and review before they are done,
about ten status changes each: a million at 100 000 items.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import json
import math
import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from benchmarks.gen_org import BulkOrg, Person, Project
from ingestion.demo.jira_reference import (
    AUTOMATION_USER,
    BASE,
    ISSUE_TYPES,
    PRIORITIES,
    RESOLUTIONS,
    STATUS_BY_ID,
    WORKFLOWS,
    fields_response,
    status_object,
    statuses_response,
)
from ingestion.demo.timekeeping import zone
from ingestion.sources.jira import SWEEP_PAGE_SIZE

try:  # orjson ships with the pinned stack; json is the fallback
    import orjson

    def _dumps(obj: Any) -> bytes:
        return orjson.dumps(obj)

except ImportError:  # pragma: no cover

    def _dumps(obj: Any) -> bytes:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


SEARCH_PAGE_SIZE = 100
# Jira's enhanced search embeds at most 40 histories; the rest needs the changelog endpoint.
EMBEDDED_HISTORIES = 40
CHANGELOG_PAGE_SIZE = 25
PAGES_PER_TASK = 20
LONG_HISTORY_SHARE = 0.005
# History ids are 10 000 000 + index * stride + n: unique while an issue has fewer
# histories than the stride (a long history has ~110; a stride of 100 once let
# 55 of 10.9M ids collide at L, which Jira never does).
HISTORY_ID_STRIDE = 1000
JSON_HEADERS = {"Content-Type": "application/json;charset=UTF-8"}
DAY_MS = 86_400_000
BLOCKED = "10102"
ACTION_LABELS = ("retro-action", "retro-action", "improvement")
FLAVOURS = ("backend", "frontend", "tech-debt", "customer-reported", "security")
DUE_OFFSETS = (-7, -4, -2, -1, 0, 0, 0, 1, 2, 3, 5, 8, 12)
TITLES = ("Add filters to", "Fix timeout in", "Document", "Migrate", "Speed up", "Clean up", "Alert on")
OBJECTS = ("checkout", "refund API", "search", "billing export", "SSO", "audit log", "CI", "dashboard")


@dataclass(frozen=True)
class JiraSpec:
    """Everything a worker needs to rebuild any issue; pickled once per task."""

    seed: int
    items: int
    start_ms: int
    end_ms: int
    run_date: date
    projects: tuple[Project, ...]
    project_weights: tuple[float, ...]  # cumulative
    people: tuple[Person, ...]
    members: dict[int, tuple[int, ...]]


@dataclass
class Issue:
    payload: dict[str, Any]
    histories: list[dict[str, Any]]
    updated_ms: int
    status_changes: int


def spec_for(org: BulkOrg, items: int, seed: int) -> JiraSpec:
    sizes = [max(1, len(org.members[p.owner])) if p.owner is not None else 6 for p in org.projects]
    total = sum(sizes)
    return JiraSpec(
        seed=seed,
        items=items,
        start_ms=int(org.window.start.timestamp() * 1000),
        end_ms=int(org.window.end.timestamp() * 1000),
        run_date=org.window.run_date,
        projects=tuple(org.projects),
        project_weights=tuple(itertools.accumulate(s / total for s in sizes)),
        people=tuple(org.people),
        members={t: tuple(m) for t, m in org.members.items()},
    )


# -- formats -------------------------------------------------------------------


@cache
def _utc_offset_ms(tz_name: str, hour_bucket: int) -> int:
    moment = datetime.fromtimestamp(hour_bucket * 3600, UTC)
    return int(moment.astimezone(zone(tz_name)).utcoffset().total_seconds() * 1000)


@cache
def _day_text(day_number: int) -> str:
    return f"{datetime.fromtimestamp(day_number * 86400, UTC):%Y-%m-%d}T"


@cache
def _offset_text(offset_ms: int) -> str:
    minutes = abs(offset_ms) // 60_000
    return f"{'+' if offset_ms >= 0 else '-'}{minutes // 60:02d}{minutes % 60:02d}"


def jira_time(ms: int, tz_name: str) -> str:
    """`2026-03-31T10:00:00.000+0200`, as Jira Cloud writes it."""
    offset = _utc_offset_ms(tz_name, ms // 3_600_000)
    local = ms + offset
    seconds, millis = divmod(local, 1000)
    day, second = divmod(seconds, 86400)
    hour, rest = divmod(second, 3600)
    return f"{_day_text(day)}{hour:02d}:{rest // 60:02d}:{rest % 60:02d}.{millis:03d}{_offset_text(offset)}"


def local_day(ms: int, tz_name: str) -> date:
    return datetime.fromtimestamp((ms + _utc_offset_ms(tz_name, ms // 3_600_000)) // 1000, UTC).date()


@cache
def _status(status_id: str) -> dict[str, Any]:
    return status_object(status_id)


@cache
def _project_object(project: Project) -> dict[str, Any]:
    return {
        "self": f"{BASE}/rest/api/3/project/{project.project_id}",
        "id": project.project_id,
        "key": project.key,
        "name": project.name,
        "projectTypeKey": "software",
        "simplified": project.workflow == "review_pay",
    }


@cache
def _issue_type(kind: str) -> dict[str, Any]:
    type_id, name = ISSUE_TYPES[kind]
    return {
        "self": f"{BASE}/rest/api/3/issuetype/{type_id}",
        "id": type_id,
        "description": "",
        "name": name,
        "subtask": False,
        "hierarchyLevel": 0,
    }


@cache
def _resolution(outcome: str) -> dict[str, Any]:
    res_id, name, description = RESOLUTIONS[outcome]
    return {
        "self": f"{BASE}/rest/api/3/resolution/{res_id}",
        "id": res_id,
        "description": description,
        "name": name,
    }


def _user(person: Person, tz_name: str) -> dict[str, Any]:
    user = {
        "self": f"{BASE}/rest/api/3/user?accountId={person.account_id}",
        "accountId": person.account_id,
        "emailAddress": person.email,
        "displayName": person.display_name,
        "active": True,
        "timeZone": tz_name,
        "accountType": "atlassian",
    }
    if person.hides_email:
        del user["emailAddress"]
    return user


def _author(person: Person) -> dict[str, Any]:
    return {
        "accountId": person.account_id,
        "displayName": person.display_name,
        "active": True,
        "accountType": "atlassian",
    }


def _status_item(from_id: str, to_id: str) -> dict[str, Any]:
    return {
        "field": "status",
        "fieldtype": "jira",
        "fieldId": "status",
        "from": from_id,
        "fromString": STATUS_BY_ID[from_id].name,
        "to": to_id,
        "toString": STATUS_BY_ID[to_id].name,
    }


def _resolution_item(old: str | None, new: str | None) -> dict[str, Any]:
    def ref(outcome: str | None) -> tuple[str | None, str | None]:
        return (RESOLUTIONS[outcome][0], RESOLUTIONS[outcome][1]) if outcome else (None, None)

    (from_id, from_name), (to_id, to_name) = ref(old), ref(new)
    return {
        "field": "resolution",
        "fieldtype": "jira",
        "fieldId": "resolution",
        "from": from_id,
        "fromString": from_name,
        "to": to_id,
        "toString": to_name,
    }


# -- one issue -----------------------------------------------------------------


def _gap(rng: random.Random, median_days: float, sigma: float = 0.8) -> int:
    return max(60_000, int(median_days * DAY_MS * math.exp(rng.gauss(0.0, sigma))))


def _pick_project(spec: JiraSpec, u: float) -> int:
    return min(bisect.bisect_right(spec.project_weights, u), len(spec.project_weights) - 1)


def issue_id_of(index: int) -> str:
    return str(100_000 + index)


def build_issue(spec: JiraSpec, index: int) -> Issue:
    """Issue number `index` of the site: a pure function of (spec.seed, index)."""
    rng = random.Random(spec.seed * 1_000_003 + index)
    project = spec.projects[_pick_project(spec, rng.random())]
    flow = WORKFLOWS[project.workflow]
    tz = project.time_zone
    span = spec.end_ms - spec.start_ms
    created = spec.start_ms + int((index + rng.random()) / spec.items * span * 0.98)
    end = spec.end_ms

    steps: list[tuple[int, str, str, list[dict[str, Any]]]] = []  # (ms, from, to, extra items)
    state = {"current": flow.backlog or flow.todo, "t": created, "resolution": None, "open": True}

    def move(days: float, to: str, outcome: str | None = None) -> bool:
        if not state["open"]:
            return False
        t = state["t"] + _gap(rng, days)
        if t >= end:
            state["open"] = False
            return False
        extra: list[dict[str, Any]] = []
        if state["resolution"] is not None:  # reopening clears the resolution
            extra.append(_resolution_item(state["resolution"], None))
            state["resolution"] = None
        if outcome is not None:
            extra.append(_resolution_item(None, outcome))
            state["resolution"] = outcome
        steps.append((t, state["current"], to, extra))
        state["current"], state["t"] = to, t
        return True

    review = flow.review
    roll = rng.random()
    if roll < 0.06:  # canceled, sometimes after a start
        if rng.random() < 0.5:
            move(3, flow.in_progress)
        move(4, flow.done, "duplicate" if rng.random() < 0.25 else "wont_do")
    elif roll < 0.12:  # shelved; some are cleaned up as won't do
        if rng.random() < 0.4:
            move(60, flow.done, "wont_do")
    elif roll < 0.15:  # done without ever being started
        move(3, flow.done, "completed")
    else:
        if flow.backlog and rng.random() < 0.6:
            move(1, flow.todo)
        move(3, flow.in_progress)
        for _ in range(min(15, int(rng.expovariate(1 / 5.5)))):
            pause = review if review and rng.random() < 0.5 else BLOCKED
            if move(1, pause):
                move(0.5, flow.in_progress)
        if review:
            move(2, review)
        move(1, flow.done, "completed")
        if rng.random() < 0.07:  # reopened, then done again
            move(2, flow.in_progress)
            if review:
                move(1, review)
            move(1, flow.done, "completed")

    workers = [p for t in project.workers for p in spec.members.get(t, ())]
    assignee = None
    if workers and (steps or rng.random() < 0.15):
        assignee = spec.people[workers[int(rng.random() * len(workers))]]
    reporter = spec.people[workers[int(rng.random() * len(workers))]] if workers else None
    worker_author = _author(assignee) if assignee else (_author(reporter) if reporter else AUTOMATION_USER)

    drafts: list[tuple[int, int, dict[str, Any], list[dict[str, Any]]]] = []
    for k, (t, from_id, to_id, extra) in enumerate(steps):
        items = [*extra, _status_item(from_id, to_id)]
        if k == 0 and assignee is not None:
            items.insert(0, _assignee_item(assignee))
        by_automation = STATUS_BY_ID[to_id].category == "done" and rng.random() < 0.1
        drafts.append((t, k, AUTOMATION_USER if by_automation else worker_author, items))
    if not steps and assignee is not None:
        t = created + rng.randint(120_000, 14_400_000)
        if t < end:
            drafts.append((t, 0, worker_author, [_assignee_item(assignee)]))
    if rng.random() < 0.3:  # a priority edit
        t = created + rng.randint(60_000, 2 * DAY_MS)
        if t < end:
            (a_id, a), (b_id, b) = rng.sample(PRIORITIES, 2)
            item = {
                "field": "priority",
                "fieldtype": "jira",
                "fieldId": "priority",
                "from": a_id,
                "fromString": a,
                "to": b_id,
                "toString": b,
            }
            drafts.append((t, 99, worker_author, [item]))
    if rng.random() < LONG_HISTORY_SHARE:  # edited over and over: past the embedded limit
        for n in range(EMBEDDED_HISTORIES + rng.randint(1, 30)):
            t = created + (n + 1) * 60_000
            if t < end:
                drafts.append((t, 100 + n, worker_author, [_label_item(rng.choice(FLAVOURS))]))
    drafts.sort(key=lambda d: (d[0], d[1]))
    if len(drafts) >= HISTORY_ID_STRIDE:
        raise ValueError(f"issue {index}: {len(drafts)} histories do not fit the id stride")
    histories = [
        {
            "id": str(10_000_000 + index * HISTORY_ID_STRIDE + n),
            "author": author,
            "created": jira_time(t, tz),
            "items": items,
        }
        for n, (t, _, author, items) in enumerate(drafts)
    ]

    updated = max([created, *(d[0] for d in drafts)])
    if rng.random() < 0.3:  # a comment leaves no changelog
        later = updated + rng.randint(300_000, 2 * DAY_MS)
        updated = later if later < end else updated
    current = state["current"]
    is_done = STATUS_BY_ID[current].category == "done"
    done_at = steps[-1][0] if steps and is_done else None
    is_action = rng.random() < 0.06
    kind = "task" if is_action else rng.choices(("story", "task", "bug"), (45, 25, 30))[0]
    labels = [rng.choice(ACTION_LABELS)] if is_action else []
    if rng.random() < 0.3:
        labels.append(rng.choice(FLAVOURS))
    due = None
    if rng.random() < 0.35:
        if done_at is not None and state["resolution"] == "completed":
            due = local_day(done_at, tz) + timedelta(days=rng.choice(DUE_OFFSETS))
        else:
            due = local_day(created, tz) + timedelta(days=rng.randint(5, 45))
    issue_id = issue_id_of(index)
    embedded = histories[:EMBEDDED_HISTORIES]
    payload = {
        "expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields",
        "id": issue_id,
        "self": f"{BASE}/rest/api/3/issue/{issue_id}",
        "key": f"{project.key}-{index + 1}",
        "changelog": {
            "startAt": 0,
            "maxResults": len(embedded),
            "total": len(histories),
            "histories": embedded,
        },
        "fields": {
            "summary": f"{rng.choice(TITLES)} {rng.choice(OBJECTS)}",
            "issuetype": _issue_type(kind),
            "project": _project_object(project),
            "status": _status(current),
            "resolution": _resolution(state["resolution"]) if is_done and state["resolution"] else None,
            "resolutiondate": jira_time(done_at, tz) if done_at is not None else None,
            "created": jira_time(created, tz),
            "updated": jira_time(updated, tz),
            "duedate": due.isoformat() if due else None,
            "labels": sorted(set(labels)),
            "assignee": _user(assignee, tz) if assignee else None,
            "customfield_10020": None,
        },
    }
    return Issue(payload, histories, updated, len(steps))


def _label_item(label: str) -> dict[str, Any]:
    return {
        "field": "labels",
        "fieldtype": "jira",
        "fieldId": "labels",
        "from": None,
        "fromString": "",
        "to": None,
        "toString": label,
    }


def _assignee_item(person: Person) -> dict[str, Any]:
    return {
        "field": "assignee",
        "fieldtype": "jira",
        "fieldId": "assignee",
        "from": None,
        "fromString": None,
        "to": person.account_id,
        "toString": person.display_name,
    }


# -- recording -----------------------------------------------------------------


def page_token(seed: int, page: int) -> str:
    return hashlib.sha256(f"bulk-search/{seed}/{page}".encode()).hexdigest()[:40]


def _exchange(
    method: str, path: str, body_file: str, *, params: dict | None = None, json_body: dict | None = None
) -> dict[str, Any]:
    return {
        "method": method,
        "path": path,
        "params": params or {},
        "json": json_body or {},
        "status": 200,
        "headers": JSON_HEADERS,
        "body_file": body_file,
    }


def changelog_exchanges(issue_key: str, histories: list[dict[str, Any]], pages_dir: Path) -> list[dict]:
    """`GET /rest/api/3/issue/{key}/changelog`, paged by startAt, for a truncated history."""
    path = f"/rest/api/3/issue/{issue_key}/changelog"
    out = []
    for n, start in enumerate(range(0, len(histories), CHANGELOG_PAGE_SIZE), start=1):
        is_last = start + CHANGELOG_PAGE_SIZE >= len(histories)
        page: dict[str, Any] = {"self": f"{BASE}{path}?maxResults={CHANGELOG_PAGE_SIZE}&startAt={start}"}
        if not is_last:
            page["nextPage"] = (
                f"{BASE}{path}?maxResults={CHANGELOG_PAGE_SIZE}&startAt={start + CHANGELOG_PAGE_SIZE}"
            )
        page |= {
            "maxResults": CHANGELOG_PAGE_SIZE,
            "startAt": start,
            "total": len(histories),
            "isLast": is_last,
            "values": histories[start : start + CHANGELOG_PAGE_SIZE],
        }
        name = f"changelog/{issue_key}-{n:03d}.json"
        (pages_dir / name).write_bytes(_dumps(page))
        out.append(_exchange("GET", path, f"pages/{name}", params={"startAt": str(start)} if start else {}))
    return out


def is_sweep(exchange: dict[str, Any]) -> bool:
    """A recorded id-only search page of the deletion sweep (not an issue page)."""
    return exchange.get("json", {}).get("maxResults") == SWEEP_PAGE_SIZE


def reference_exchanges(issue_ids: list[str], pages_dir: Path, tag: str) -> list[dict]:
    """`/myself` and the deletion sweep's id-only search pages, as a live Jira answers them.

    The pipeline reads the Jira user's time zone for incremental JQL and, on
    a live site, sweeps every issue id (`fields: ["id"]`, SWEEP_PAGE_SIZE a page) to
    flag deleted issues; without these the server would answer the sweep
    with full search pages.
    """
    (pages_dir / f"myself-{tag}.json").write_bytes(
        _dumps({"accountId": "bench-bot", "displayName": "Benchmark", "timeZone": "UTC", "active": True})
    )
    out = [_exchange("GET", "/rest/api/3/myself", f"pages/myself-{tag}.json")]
    chunks = [issue_ids[i : i + SWEEP_PAGE_SIZE] for i in range(0, len(issue_ids), SWEEP_PAGE_SIZE)] or [[]]
    for n, chunk in enumerate(chunks, start=1):
        body: dict[str, Any] = {"issues": [{"id": i} for i in chunk], "isLast": n == len(chunks)}
        if n < len(chunks):
            body["nextPageToken"] = f"sweep-{tag}-{n + 1}"
        name = f"sweep-{tag}-{n:04d}.json"
        (pages_dir / name).write_bytes(_dumps(body))
        request: dict[str, Any] = {"maxResults": SWEEP_PAGE_SIZE}
        if n > 1:
            request["nextPageToken"] = f"sweep-{tag}-{n}"
        out.append(_exchange("POST", "/rest/api/3/search/jql", f"pages/{name}", json_body=request))
    return out


def _write_pages(args: tuple[JiraSpec, Path, int, int, int]) -> tuple[list[dict], dict[str, int]]:
    """Search pages [first, last) of the site; returns their exchanges and counts."""
    spec, pages_dir, first, last, page_count = args
    exchanges: list[dict] = []
    counts = {
        "issues": 0,
        "histories": 0,
        "status_changes": 0,
        "truncated": 0,
        "changelog_pages": 0,
        "bytes": 0,
    }
    changelogs: list[dict] = []
    for page in range(first, last):
        issues = []
        for index in range(page * SEARCH_PAGE_SIZE, min(spec.items, (page + 1) * SEARCH_PAGE_SIZE)):
            issue = build_issue(spec, index)
            issues.append(issue.payload)
            counts["issues"] += 1
            counts["histories"] += len(issue.histories)
            counts["status_changes"] += issue.status_changes
            if len(issue.histories) > EMBEDDED_HISTORIES:
                counts["truncated"] += 1
                pages = changelog_exchanges(issue.payload["key"], issue.histories, pages_dir)
                counts["changelog_pages"] += len(pages)
                changelogs += pages
        body: dict[str, Any] = {"issues": issues}
        number = page + 1
        if number < page_count:
            body["nextPageToken"] = page_token(spec.seed, number + 1)
        body["isLast"] = number == page_count
        data = _dumps(body)
        counts["bytes"] += len(data)
        name = f"search/{number:06d}.json"
        (pages_dir / name).write_bytes(data)
        request = {"nextPageToken": page_token(spec.seed, number)} if number > 1 else {}
        exchanges.append(_exchange("POST", "/rest/api/3/search/jql", f"pages/{name}", json_body=request))
    return exchanges + changelogs, counts


def write_jira(org: BulkOrg, items: int, out_dir: Path, seed: int, workers: int = 2) -> dict[str, int]:
    """Write `<out_dir>/exchanges.jsonl` and `pages/` for `items` issues."""
    pages_dir = out_dir / "pages"
    for sub in ("search", "changelog"):
        (pages_dir / sub).mkdir(parents=True, exist_ok=True)
    (pages_dir / "status.json").write_bytes(_dumps(statuses_response()))
    (pages_dir / "field.json").write_bytes(_dumps(fields_response()))
    exchanges = [
        _exchange("GET", "/rest/api/3/status", "pages/status.json"),
        _exchange("GET", "/rest/api/3/field", "pages/field.json"),
    ]
    spec = spec_for(org, items, seed)
    page_count = max(1, math.ceil(items / SEARCH_PAGE_SIZE))
    tasks = [
        (spec, pages_dir, first, min(page_count, first + PAGES_PER_TASK), page_count)
        for first in range(0, page_count, PAGES_PER_TASK)
    ]
    totals = {
        "issues": 0,
        "histories": 0,
        "status_changes": 0,
        "truncated": 0,
        "changelog_pages": 0,
        "bytes": 0,
    }
    if workers > 1 and len(tasks) > 1:
        with ProcessPoolExecutor(workers) as pool:
            results = list(pool.map(_write_pages, tasks))
    else:
        results = [_write_pages(task) for task in tasks]
    for task_exchanges, counts in results:
        exchanges += task_exchanges
        for key, value in counts.items():
            totals[key] += value
    exchanges += reference_exchanges([issue_id_of(i) for i in range(items)], pages_dir, "full")
    lines = "".join(json.dumps(e) + "\n" for e in exchanges)
    (out_dir / "exchanges.jsonl").write_text(lines)
    return {
        "jira_issues": totals["issues"],
        "jira_histories": totals["histories"],
        "jira_status_changes": totals["status_changes"],
        "jira_truncated_changelogs": totals["truncated"],
        "jira_search_pages": page_count,
        "jira_changelog_pages": totals["changelog_pages"],
        "jira_search_bytes": totals["bytes"],
    }
