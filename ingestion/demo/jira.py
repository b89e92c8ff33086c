"""Jira Cloud REST v3 recordings: statuses, fields, issue search and changelogs.

Issues come from `POST /rest/api/3/search/jql` in pages of 100 ordered by
`updated`, with `nextPageToken` / `isLast` (the last page has no token key).
Timestamps are written in the project team's offset (`+0200`, summer and
winter time included). About 5 % of issues have a long history of field
edits: their search entry embeds only the first 20 histories while
`changelog.total` tells the truth, and the complete history is recorded under
`GET /rest/api/3/issue/{key}/changelog`, paged by `startAt`.
"""

from __future__ import annotations

import base64
import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ingestion.demo.catalog import (
    JIRA_ISSUES_AT_SCALE_1,
    JIRA_PROJECTS,
    OPS_TEAMS,
    STORY_TEAM,
    TEAM_BY_ID,
    JiraProject,
)
from ingestion.demo.flow import OPS_PROFILE, PROFILES, cycle_factor_for, label_story_action
from ingestion.demo.jira_reference import (
    AUTOMATION_USER,
    BASE,
    ISSUE_TYPES,
    PRIORITIES,
    RESOLUTIONS,
    SPRINT_FIELD,
    STATUS_BY_ID,
    STORY_POINTS_FIELD,
    WORKFLOWS,
    fields_response,
    status_object,
    statuses_response,
)
from ingestion.demo.org import Org, Person
from ingestion.demo.planning import ContainerSpec, PlannedItem, plan_items
from ingestion.demo.recording import Recorder
from ingestion.demo.sprints import Sprint, memberships, plan_sprints
from ingestion.demo.timekeeping import Window, jira_time, working_time, zone
from ingestion.demo.workflow import DONE, REVIEW, Step

SEARCH_PAGE_SIZE = 100
EMBEDDED_HISTORIES = 20  # what a truncated search entry embeds
CHANGELOG_PAGE_SIZE = 25
LONG_HISTORY_SHARE = 0.05
INSTANT_CLOSE_SHARE = 0.03  # review and close in the same millisecond (order by id)
FLAVOUR_LABELS = ("backend", "frontend", "tech-debt", "customer-reported", "security")
JSON_HEADERS = {"Content-Type": "application/json;charset=UTF-8"}
ISSUE_EXPAND = "operations,versionedRepresentations,editmeta,changelog,renderedFields"


@dataclass
class _Draft:
    """A changelog history before ids are handed out in time order."""

    at: datetime
    author: dict[str, Any]
    items: list[dict[str, Any]]
    history_id: str = ""


@dataclass
class JiraIssue:
    project: JiraProject
    item: PlannedItem
    key: str = ""
    issue_id: str = ""
    drafts: list[_Draft] = field(default_factory=list)
    sprints: list[Sprint] = field(default_factory=list)
    long_history: bool = False
    status_id: str = ""
    updated: datetime | None = None
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class JiraResult:
    issues: list[JiraIssue]
    pages: int
    changelog_pages: int
    exchanges: int


def jira_user(person: Person, window: Window) -> dict[str, Any]:
    team = person.team_on(window.run_date - timedelta(days=1)) or person.memberships[-1].team_id
    return {
        "self": f"{BASE}/rest/api/3/user?accountId={person.jira_account_id}",
        "accountId": person.jira_account_id,
        "emailAddress": person.email,
        "displayName": person.display_name,
        "active": person.is_active_at_end(window),
        "timeZone": TEAM_BY_ID[team].time_zone,
        "accountType": "atlassian",
    }


def history_author(person: Person, window: Window) -> dict[str, Any]:
    """A changelog author: the user object without links, to keep pages small."""
    return {
        "accountId": person.jira_account_id,
        "emailAddress": person.email,
        "displayName": person.display_name,
        "active": person.is_active_at_end(window),
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
    def name(outcome: str | None) -> tuple[str | None, str | None]:
        return (RESOLUTIONS[outcome][0], RESOLUTIONS[outcome][1]) if outcome else (None, None)

    (from_id, from_name), (to_id, to_name) = name(old), name(new)
    return {
        "field": "resolution",
        "fieldtype": "jira",
        "fieldId": "resolution",
        "from": from_id,
        "fromString": from_name,
        "to": to_id,
        "toString": to_name,
    }


def _sprint_item(before: list[Sprint], after: list[Sprint]) -> dict[str, Any]:
    return {
        "field": "Sprint",
        "fieldtype": "custom",
        "fieldId": SPRINT_FIELD,
        "from": ", ".join(str(s.sprint_id) for s in before),
        "fromString": ", ".join(s.name for s in before),
        "to": ", ".join(str(s.sprint_id) for s in after),
        "toString": ", ".join(s.name for s in after),
    }


def _edit_item(rng: random.Random, n: int) -> dict[str, Any]:
    """Field edits that make some histories long (priority, estimate, labels)."""
    if n % 3 == 0:
        (a_id, a), (b_id, b) = rng.sample(PRIORITIES, 2)
        return {
            "field": "priority",
            "fieldtype": "jira",
            "fieldId": "priority",
            "from": a_id,
            "fromString": a,
            "to": b_id,
            "toString": b,
        }
    if n % 3 == 1:
        a, b = rng.sample((1, 2, 3, 5, 8, 13), 2)
        return {
            "field": "Story point estimate",
            "fieldtype": "custom",
            "fieldId": STORY_POINTS_FIELD,
            "from": None,
            "fromString": str(a),
            "to": None,
            "toString": str(b),
        }
    return {
        "field": "labels",
        "fieldtype": "jira",
        "fieldId": "labels",
        "from": None,
        "fromString": "",
        "to": None,
        "toString": rng.choice(FLAVOUR_LABELS),
    }


def _close_instantly(rng: random.Random, item: PlannedItem) -> None:
    """Automation closes right after review: two histories share a timestamp."""
    steps = item.steps
    if (
        len(steps) >= 2
        and steps[-1].state == DONE
        and steps[-2].state == REVIEW
        and item.due is None
        and rng.random() < INSTANT_CLOSE_SHARE
    ):
        steps[-1] = Step(steps[-2].at, DONE, steps[-1].outcome)


def _draft_histories(rng: random.Random, issue: JiraIssue, sprints: list[Sprint], window: Window) -> None:
    """Write the issue's histories and set its current status."""
    item, workflow = issue.item, WORKFLOWS[issue.project.workflow]
    reporter = history_author(item.reporter, window)
    worker = history_author(item.assignee, window) if item.assignee else reporter
    drafts = issue.drafts

    joined: list[Sprint] = []
    for at, sprint in memberships(rng, item, sprints):
        drafts.append(_Draft(at, reporter, [_sprint_item(list(joined), [*joined, sprint])]))
        joined.append(sprint)
    issue.sprints = joined

    current = workflow.backlog or workflow.todo
    begin = item.steps[0].at if item.steps else None
    if workflow.backlog and begin is not None and rng.random() < 0.6:
        at = item.created + (begin - item.created) * rng.uniform(0.2, 0.8)
        by_day = working_time(at, item.tz, rng)
        at = by_day if by_day < begin else at
        drafts.append(_Draft(at, reporter, [_status_item(current, workflow.todo)]))
        current = workflow.todo

    assigned = False
    if item.assignee is not None and not item.steps:  # assigned while still to do
        at = item.created + timedelta(minutes=rng.randint(2, 240))
        if at < window.end:
            drafts.append(_Draft(at, reporter, [_assignee_item(item.assignee)]))
        assigned = True

    resolved: str | None = None
    for step in item.steps:
        target = workflow.status_for(step.state)
        if target is None or target == current:
            continue
        changes: list[dict[str, Any]] = []
        if not assigned and item.assignee is not None:
            changes.append(_assignee_item(item.assignee))
            assigned = True
        if resolved is not None:  # reopening clears the resolution
            changes.append(_resolution_item(resolved, None))
            resolved = None
        if step.state == DONE:
            resolved = step.outcome
            changes.append(_resolution_item(None, resolved))
        changes.append(_status_item(current, target))
        same_instant = bool(drafts) and drafts[-1].at == step.at
        by_automation = step.state == DONE and (same_instant or rng.random() < 0.1)
        drafts.append(_Draft(step.at, AUTOMATION_USER if by_automation else worker, changes))
        current = target

    if issue.long_history:
        first = min((d.at for d in drafts), default=window.end)
        first = min(first, window.end)
        count = rng.randint(EMBEDDED_HISTORIES + 4, EMBEDDED_HISTORIES + 14)
        span = first - item.created
        for n in range(count):
            at = item.created + span * ((n + 1) / (count + 1))
            drafts.append(_Draft(at, rng.choice((reporter, worker)), [_edit_item(rng, n)]))
    # Stable sort: same-instant histories keep the order they happened in.
    drafts.sort(key=lambda d: d.at)
    issue.status_id = current


def _assignee_item(person: Person) -> dict[str, Any]:
    return {
        "field": "assignee",
        "fieldtype": "jira",
        "fieldId": "assignee",
        "from": None,
        "fromString": None,
        "to": person.jira_account_id,
        "toString": person.display_name,
    }


def _fields(rng: random.Random, issue: JiraIssue, window: Window) -> dict[str, Any]:
    item, project, status_id = issue.item, issue.project, issue.status_id
    tz = item.tz
    done = item.resolved
    is_done = STATUS_BY_ID[status_id].category == "done"
    type_id, type_name = ISSUE_TYPES[item.kind]
    labels = list(item.labels)
    if rng.random() < 0.3:
        labels.append(rng.choice(FLAVOUR_LABELS))
    return {
        "summary": item.title,
        "issuetype": {
            "self": f"{BASE}/rest/api/3/issuetype/{type_id}",
            "id": type_id,
            "description": "",
            "name": type_name,
            "subtask": False,
            "hierarchyLevel": 0,
        },
        "project": {
            "self": f"{BASE}/rest/api/3/project/{project.project_id}",
            "id": project.project_id,
            "key": project.key,
            "name": project.name,
            "projectTypeKey": "software",
            "simplified": project.team_managed,
        },
        "status": status_object(status_id),
        "resolution": (
            {
                "self": f"{BASE}/rest/api/3/resolution/{RESOLUTIONS[done.outcome][0]}",
                "id": RESOLUTIONS[done.outcome][0],
                "description": RESOLUTIONS[done.outcome][2],
                "name": RESOLUTIONS[done.outcome][1],
            }
            if is_done and done and done.outcome
            else None
        ),
        "resolutiondate": jira_time(done.at, tz) if is_done and done else None,
        "created": jira_time(item.created, tz),
        "updated": jira_time(issue.updated or item.created, tz),
        "duedate": item.due.isoformat() if item.due else None,
        "labels": sorted(set(labels)),
        "assignee": jira_user(item.assignee, window) if item.assignee else None,
        SPRINT_FIELD: [s.payload(window) for s in issue.sprints] or None,
    }


def _history_json(d: _Draft, tz: Any) -> dict[str, Any]:
    return {"id": d.history_id, "author": d.author, "created": jira_time(d.at, tz), "items": d.items}


def build_issues(rng: random.Random, org: Org, window: Window, scale: float) -> list[JiraIssue]:
    total = max(len(JIRA_PROJECTS), round(JIRA_ISSUES_AT_SCALE_1 * scale))
    weight_sum = sum(p.weight for p in JIRA_PROJECTS)
    issues: list[JiraIssue] = []
    sprints_of: dict[str, list[Sprint]] = {}
    sprint_id, board_id = 1, 1
    story_labelled = False
    for project in JIRA_PROJECTS:
        tz = zone(project.time_zone)
        spec = ContainerSpec(
            container=project.key,
            owner=project.team_id,
            worker_teams=(project.team_id,) if project.team_id else OPS_TEAMS,
            tz=tz,
            count=max(3, round(total * project.weight / weight_sum)),
            profile=PROFILES[project.team_id] if project.team_id else OPS_PROFILE,
            cycle_factor=cycle_factor_for(project.team_id, window),
        )
        sprints_of[project.key] = []
        if project.scrum:
            sprints_of[project.key] = plan_sprints(project.key, board_id, sprint_id, tz, window)
            board_id, sprint_id = board_id + 1, sprint_id + len(sprints_of[project.key])
        planned = plan_items(rng, spec, window, org)
        if project.team_id == STORY_TEAM and not story_labelled:  # one action, in the team's first project
            story_labelled = label_story_action(planned, window)
        for number, item in enumerate(planned, start=1):
            _close_instantly(rng, item)
            issues.append(JiraIssue(project=project, item=item, key=f"{project.key}-{number}"))

    # Long histories need status changes to hide behind the embedded ones.
    movable = [i for i in issues if i.item.steps]
    for issue in rng.sample(movable, max(1, round(LONG_HISTORY_SHARE * len(issues)))):
        issue.long_history = True
    for issue in issues:
        _draft_histories(rng, issue, sprints_of[issue.project.key], window)

    # Ids grow with time across the whole site, as Jira's do.
    for n, issue in enumerate(sorted(issues, key=lambda i: (i.item.created, i.key)), start=1):
        issue.issue_id = str(10000 + n)
    all_drafts = sorted(
        ((d.at, int(i.issue_id), k, d) for i in issues for k, d in enumerate(i.drafts)),
        key=lambda t: t[:3],
    )
    for n, (*_, draft) in enumerate(all_drafts, start=1):
        draft.history_id = str(100000 + n)

    for issue in issues:
        last = max([issue.item.created, *(d.at for d in issue.drafts)])
        if rng.random() < 0.3:  # a comment or an edit that leaves no changelog
            later = last + timedelta(minutes=rng.randint(5, 3000))
            last = later if later < window.end else last
        issue.updated = last
        issue.payload = _payload(rng, issue, window)
    return issues


def _payload(rng: random.Random, issue: JiraIssue, window: Window) -> dict[str, Any]:
    histories = [_history_json(d, issue.item.tz) for d in issue.drafts]
    embedded = histories[:EMBEDDED_HISTORIES] if issue.long_history else histories
    return {
        "expand": ISSUE_EXPAND,
        "id": issue.issue_id,
        "self": f"{BASE}/rest/api/3/issue/{issue.issue_id}",
        "key": issue.key,
        "changelog": {
            "startAt": 0,
            "maxResults": len(embedded),
            "total": len(histories),
            "histories": embedded,
        },
        "fields": _fields(rng, issue, window),
    }


def _page_token(seed: int, window: Window, page: int) -> str:
    digest = hashlib.sha256(f"jira-search/{seed}/{window.run_date}/{page}".encode()).digest()
    return base64.b64encode(digest[:30]).decode()


def record(recorder: Recorder, issues: list[JiraIssue], seed: int, window: Window) -> JiraResult:
    recorder.add(
        "GET", "/rest/api/3/status", statuses_response(), page_file="status.json", headers=JSON_HEADERS
    )
    recorder.add("GET", "/rest/api/3/field", fields_response(), page_file="field.json", headers=JSON_HEADERS)

    ordered = sorted(issues, key=lambda i: (i.updated, int(i.issue_id)))
    chunks = [ordered[i : i + SEARCH_PAGE_SIZE] for i in range(0, len(ordered), SEARCH_PAGE_SIZE)]
    for n, chunk in enumerate(chunks, start=1):
        body: dict[str, Any] = {"issues": [i.payload for i in chunk]}
        if n < len(chunks):
            body["nextPageToken"] = _page_token(seed, window, n + 1)
        body["isLast"] = n == len(chunks)
        request = {"nextPageToken": _page_token(seed, window, n)} if n > 1 else {}
        recorder.add(
            "POST",
            "/rest/api/3/search/jql",
            body,
            page_file=f"search-{n:04d}.json",
            json_body=request,
            headers=JSON_HEADERS,
        )

    changelog_pages = 0
    for issue in sorted(issues, key=lambda i: int(i.issue_id)):
        if not issue.long_history:
            continue
        histories = [_history_json(d, issue.item.tz) for d in issue.drafts]
        path = f"/rest/api/3/issue/{issue.key}/changelog"
        for n, start in enumerate(range(0, len(histories), CHANGELOG_PAGE_SIZE), start=1):
            values = histories[start : start + CHANGELOG_PAGE_SIZE]
            is_last = start + CHANGELOG_PAGE_SIZE >= len(histories)
            page: dict[str, Any] = {
                "self": f"{BASE}{path}?maxResults={CHANGELOG_PAGE_SIZE}&startAt={start}",
            }
            if not is_last:
                page["nextPage"] = (
                    f"{BASE}{path}?maxResults={CHANGELOG_PAGE_SIZE}&startAt={start + CHANGELOG_PAGE_SIZE}"
                )
            page |= {
                "maxResults": CHANGELOG_PAGE_SIZE,
                "startAt": start,
                "total": len(histories),
                "isLast": is_last,
                "values": values,
            }
            recorder.add(
                "GET",
                path,
                page,
                page_file=f"changelog-{issue.key}-{n:04d}.json",
                params={"startAt": str(start)} if start else {},
                headers=JSON_HEADERS,
            )
            changelog_pages += 1
    return JiraResult(issues, len(chunks), changelog_pages, recorder.finish())
