"""Jira Cloud reference data: statuses, fields, workflows, resolutions.

Statuses carry quirks the pipeline must survive: a status renamed into French
("En cours", categorised by key, never by name) and a team-managed "In
Review" status whose category was set to To Do by mistake (the status-mapping
seed overrides it for PAY).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ingestion.demo.workflow import DUPLICATE, IN_PROGRESS, REVIEW, TODO, WONT_DO

BASE = "{base}"
SPRINT_FIELD = "customfield_10020"
STORY_POINTS_FIELD = "customfield_10016"

CATEGORIES: dict[str, dict[str, Any]] = {
    "new": {"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"},
    "indeterminate": {"id": 4, "key": "indeterminate", "colorName": "yellow", "name": "In Progress"},
    "done": {"id": 3, "key": "done", "colorName": "green", "name": "Done"},
}


@dataclass(frozen=True)
class Status:
    status_id: str
    name: str
    untranslated: str
    category: str  # new | indeterminate | done
    project_scope: str | None = None  # team-managed statuses belong to one project


STATUSES: tuple[Status, ...] = (
    Status("1", "Open", "Open", "new"),
    Status("3", "En cours", "In Progress", "indeterminate"),
    Status("5", "Resolved", "Resolved", "done"),
    Status("6", "Closed", "Closed", "done"),
    Status("10000", "To Do", "To Do", "new"),
    Status("10001", "Done", "Done", "done"),
    Status("10003", "Backlog", "Backlog", "new"),
    Status("10100", "In Review", "In Review", "new", project_scope="10000"),
    Status("10101", "Code Review", "Code Review", "indeterminate"),
    Status("10102", "Blocked", "Blocked", "indeterminate"),
)
STATUS_BY_ID = {s.status_id: s for s in STATUSES}

# The status-mapping seed: status 10100 really means in progress for PAY.
STATUS_OVERRIDES = (("PAY", "10100", "in_progress"),)
CANONICAL = {"new": "todo", "indeterminate": "in_progress", "done": "done"}


@dataclass(frozen=True)
class Workflow:
    todo: str
    in_progress: str
    review: str | None
    done: str
    backlog: str | None = None  # created here, moved to `todo` before work starts

    def status_for(self, state: str) -> str | None:
        return {TODO: self.todo, IN_PROGRESS: self.in_progress, REVIEW: self.review}.get(state, self.done)


WORKFLOWS = {
    "review": Workflow("10000", "3", "10101", "10001"),
    "review_pay": Workflow("10000", "3", "10100", "10001"),
    "simple": Workflow("10000", "3", None, "10001"),
    "backlog": Workflow("10000", "3", None, "10001", backlog="10003"),
    "ops": Workflow("1", "3", None, "6"),
}

RESOLUTIONS = {
    "completed": ("10000", "Done", "Work has been completed on this issue."),
    WONT_DO: ("10001", "Won't Do", "This issue won't be actioned."),
    DUPLICATE: ("10002", "Duplicate", "The problem is a duplicate of an existing issue."),
}
ISSUE_TYPES = {"story": ("10001", "Story"), "task": ("10002", "Task"), "bug": ("10004", "Bug")}
PRIORITIES = (("2", "High"), ("3", "Medium"), ("4", "Low"))

AUTOMATION_USER = {
    "accountId": "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077",
    "displayName": "Automation for Jira",
    "active": True,
    "accountType": "app",
}


def category_object(key: str) -> dict[str, Any]:
    c = CATEGORIES[key]
    return {"self": f"{BASE}/rest/api/3/statuscategory/{c['id']}", **c}


def status_object(status_id: str) -> dict[str, Any]:
    """A status as embedded in an issue's fields."""
    s = STATUS_BY_ID[status_id]
    return {
        "self": f"{BASE}/rest/api/3/status/{s.status_id}",
        "description": "",
        "iconUrl": f"{BASE}/images/icons/statuses/generic.png",
        "name": s.name,
        "id": s.status_id,
        "statusCategory": category_object(s.category),
    }


def statuses_response() -> list[dict[str, Any]]:
    """`GET /rest/api/3/status`."""
    out = []
    for s in STATUSES:
        entry = status_object(s.status_id) | {"untranslatedName": s.untranslated}
        if s.project_scope:
            entry["scope"] = {"type": "PROJECT", "project": {"id": s.project_scope}}
        out.append(entry)
    return out


def _field(
    field_id: str, name: str, schema: dict[str, Any] | None, *, custom: bool, clause: str
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": field_id,
        "key": field_id,
        "name": name,
        "custom": custom,
        "orderable": True,
        "navigable": True,
        "searchable": True,
        "clauseNames": [clause],
    }
    if schema is not None:
        entry["schema"] = schema
    return entry


def fields_response() -> list[dict[str, Any]]:
    """`GET /rest/api/3/field`: the sprint field is found by schema.custom, not by id."""

    def system(t: str, name: str, **extra: Any) -> dict[str, Any]:
        return {"type": t, "system": name, **extra}

    return [
        _field("summary", "Summary", system("string", "summary"), custom=False, clause="summary"),
        _field("issuetype", "Issue Type", system("issuetype", "issuetype"), custom=False, clause="issuetype"),
        _field("project", "Project", system("project", "project"), custom=False, clause="project"),
        _field("status", "Status", system("status", "status"), custom=False, clause="status"),
        _field(
            "resolution", "Resolution", system("resolution", "resolution"), custom=False, clause="resolution"
        ),
        _field(
            "resolutiondate",
            "Resolved",
            system("datetime", "resolutiondate"),
            custom=False,
            clause="resolved",
        ),
        _field("created", "Created", system("datetime", "created"), custom=False, clause="created"),
        _field("updated", "Updated", system("datetime", "updated"), custom=False, clause="updated"),
        _field("duedate", "Due date", system("date", "duedate"), custom=False, clause="due"),
        _field("labels", "Labels", system("array", "labels", items="string"), custom=False, clause="labels"),
        _field("assignee", "Assignee", system("user", "assignee"), custom=False, clause="assignee"),
        _field("priority", "Priority", system("priority", "priority"), custom=False, clause="priority"),
        _field(
            "customfield_10014",
            "Epic Link",
            {"type": "any", "custom": "com.pyxis.greenhopper.jira:gh-epic-link", "customId": 10014},
            custom=True,
            clause="cf[10014]",
        ),
        _field(
            STORY_POINTS_FIELD,
            "Story point estimate",
            {"type": "number", "custom": "com.pyxis.greenhopper.jira:jsw-story-points", "customId": 10016},
            custom=True,
            clause="cf[10016]",
        ),
        # A look-alike: named like the sprint field, but a plain text field.
        _field(
            "customfield_10019",
            "Sprint (old)",
            {
                "type": "string",
                "custom": "com.atlassian.jira.plugin.system.customfieldtypes:textfield",
                "customId": 10019,
            },
            custom=True,
            clause="cf[10019]",
        ),
        _field(
            SPRINT_FIELD,
            "Sprint",
            {
                "type": "array",
                "items": "json",
                "custom": "com.pyxis.greenhopper.jira:gh-sprint",
                "customId": 10020,
            },
            custom=True,
            clause="sprint",
        ),
    ]
