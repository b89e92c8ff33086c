"""Build a small DuckDB warehouse whose raw layer looks like a real landing.

The payloads follow the real APIs (Jira Cloud REST v3, GitHub REST, Linear
GraphQL, Okta System Log), quirks included: Jira offsets without a colon,
a Jira status renamed since it was used, GitHub pull requests mixed into
the issues endpoint, Okta AppInstance targets anywhere in ``target[]``.
The seeds beside this file describe the organisation. tests/test_dbt_models.py
runs the dbt project against it and checks hand-computed numbers:

* PAY-1 (Jira, payments, Europe/Paris): created 2024-03-04 09:00 +0100,
  started 03-05, done 03-07, reopened 03-08, done again 2024-04-02 12:00 +0200
  (after the DST change): lead 698 h, cycle 673 h, 1 reopen, active 649 h,
  on time (due 04-02).
* PAY-2: done 2024-04-05 00:30 +0200 = 04-04 22:30 UTC, due 04-04: late in
  Paris although on time by the UTC date. Went through a renamed status
  ("Code Review", now "In Review") and "Blocked", which the status mapping
  puts in todo for project PAY. Lead 254.5 h, cycle 230.5 h, active 134.5 h.
* PAY-3: resolved "Won't Do": canceled.
* acme/web#1 (GitHub, platform, America/New_York): closed 2024-03-09 03:00 UTC
  = 03-08 22:00 in New York, due 03-08: on time although late by UTC date.
* acme/web#2: in-progress label, closed, reopened (unassigned → todo),
  closed again: lead 192 h, cycle 168 h, 1 reopen, active 24 h.
* Survey wave 2024-Q1: payments has exactly 5 respondents (not suppressed,
  eNPS 25, satisfaction 62.5), platform 2 (suppressed).
* Sprints of project PAY (sprint field customfield_10020, history items of
  field "Sprint"): Sprint 1 (03-04 → completed 03-18 09:30 UTC) commits
  PAY-1, which is reopened and in progress at the end (accuracy 0 / 1);
  PAY-3 (won't do) and PAY-5 (created straight into the sprint, done) are
  scope added. Sprint 2 (03-18 → completed late, 04-03 09:00) commits PAY-1
  (carried over, done 04-02) and PAY-4 (taken out 03-28): accuracy 1 / 2;
  PAY-2 is added. Sprint 3 (from 04-03, still active, planned end 04-17)
  commits PAY-2 (carried over, done 04-04): accuracy 1 / 1.

Usage: python tests/dbt_fixtures/build_fixture_warehouse.py OUT.duckdb
"""

from __future__ import annotations

import json
import sys
import zlib
from datetime import UTC, datetime
from pathlib import Path

import duckdb

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from ingestion.raw_tables import create_statements  # noqa: E402

SEEDS_DIR = Path(__file__).resolve().parent / "seeds"
LOADED_AT = datetime(2024, 4, 10, 6, 0, tzinfo=UTC)
RUN_ID = "fixture-run-1"
JIRA_BASE = "https://acme.atlassian.net"
SPRINT_FIELD = "customfield_10020"


def _stable_id(text: str) -> int:
    return zlib.crc32(text.encode())


# --------------------------------------------------------------------------
# Jira
# --------------------------------------------------------------------------

JIRA_CATEGORIES = {
    "new": {"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"},
    "indeterminate": {"id": 4, "key": "indeterminate", "colorName": "yellow", "name": "In Progress"},
    "done": {"id": 3, "key": "done", "colorName": "green", "name": "Done"},
}

# id -> (current name, category key). 10002 was called "Code Review" when
# PAY-2 passed through it; the changelog keeps the old name.
JIRA_STATUSES = {
    "10000": ("To Do", "new"),
    "3": ("In Progress", "indeterminate"),
    "10001": ("Done", "done"),
    "10002": ("In Review", "indeterminate"),
    "10003": ("Blocked", "indeterminate"),
}

PEOPLE = {
    "acc-alice": ("Alice Martin", "alice@example.com"),
    "acc-bob": ("Bob Stone", None),  # email hidden by the profile's privacy settings
    "acc-carol": ("Carol Diaz", "Carol@example.com"),
    "acc-erin": ("Erin Moreau", "erin@example.com"),
    "acc-gina": ("Gina Rossi", "gina@example.com"),
    "acc-hank": ("Hank Berg", "hank@example.com"),
}

ISSUE_TYPES = {
    "Story": {"id": "10001", "name": "Story", "subtask": False, "hierarchyLevel": 0},
    "Bug": {"id": "10004", "name": "Bug", "subtask": False, "hierarchyLevel": 0},
    "Task": {"id": "10002", "name": "Task", "subtask": False, "hierarchyLevel": 0},
}

RESOLUTIONS = {
    "Done": {"id": "10000", "name": "Done", "description": "Work has been completed on this issue."},
    "Won't Do": {"id": "10001", "name": "Won't Do", "description": "This issue won't be actioned."},
}


SPRINTS = {
    "101": {
        "id": 101,
        "name": "PAY Sprint 1",
        "state": "closed",
        "boardId": 1,
        "goal": "Recurring payments",
        "startDate": "2024-03-04T10:00:00.000Z",
        "endDate": "2024-03-18T10:00:00.000Z",
        "completeDate": "2024-03-18T09:30:00.000Z",
    },
    "102": {
        "id": 102,
        "name": "PAY Sprint 2",
        "state": "closed",
        "boardId": 1,
        "goal": "",
        "startDate": "2024-03-18T10:00:00.000Z",
        "endDate": "2024-04-01T10:00:00.000Z",
        "completeDate": "2024-04-03T09:00:00.000Z",
    },
    "103": {
        "id": 103,
        "name": "PAY Sprint 3",
        "state": "active",
        "boardId": 1,
        "goal": "",
        "startDate": "2024-04-03T10:00:00.000Z",
        "endDate": "2024-04-17T10:00:00.000Z",
    },
}


def jira_status(status_id: str) -> dict:
    name, category = JIRA_STATUSES[status_id]
    return {
        "self": f"{JIRA_BASE}/rest/api/3/status/{status_id}",
        "description": "",
        "iconUrl": f"{JIRA_BASE}/images/icons/statuses/generic.png",
        "name": name,
        "untranslatedName": name,
        "id": status_id,
        "statusCategory": {
            "self": f"{JIRA_BASE}/rest/api/3/statuscategory/{JIRA_CATEGORIES[category]['id']}",
            **JIRA_CATEGORIES[category],
        },
    }


def jira_user(account_id: str | None) -> dict | None:
    if account_id is None:
        return None
    name, email = PEOPLE[account_id]
    user = {
        "self": f"{JIRA_BASE}/rest/api/3/user?accountId={account_id}",
        "accountId": account_id,
        "displayName": name,
        "active": True,
        "timeZone": "Europe/Paris",
        "accountType": "atlassian",
    }
    if email is not None:
        user["emailAddress"] = email
    return user


def jira_issue(
    issue_id: str,
    key: str,
    *,
    issue_type: str,
    status_id: str,
    created: str,
    updated: str,
    summary: str,
    assignee: str | None = None,
    resolution: str | None = None,
    resolutiondate: str | None = None,
    duedate: str | None = None,
    labels: list[str] | None = None,
    sprints: list[str] | None = None,
) -> dict:
    project_key = key.split("-")[0]
    return {
        "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
        "id": issue_id,
        "self": f"{JIRA_BASE}/rest/api/3/issue/{issue_id}",
        "key": key,
        "fields": {
            "summary": summary,
            "issuetype": {
                "self": f"{JIRA_BASE}/rest/api/3/issuetype/{ISSUE_TYPES[issue_type]['id']}",
                **ISSUE_TYPES[issue_type],
            },
            "project": {
                "self": f"{JIRA_BASE}/rest/api/3/project/{project_key}",
                "id": "100" + str(len(project_key)),
                "key": project_key,
                "name": project_key.title(),
                "projectTypeKey": "software",
            },
            "status": jira_status(status_id),
            "resolution": RESOLUTIONS[resolution] if resolution else None,
            "resolutiondate": resolutiondate,
            "created": created,
            "updated": updated,
            "duedate": duedate,
            "assignee": jira_user(assignee),
            "reporter": jira_user("acc-alice"),
            "labels": labels or [],
            "priority": {"id": "3", "name": "Medium"},
            SPRINT_FIELD: [SPRINTS[s] for s in sprints] if sprints else None,
        },
    }


def status_item(
    from_id: str, to_id: str, *, from_name: str | None = None, to_name: str | None = None
) -> dict:
    return {
        "field": "status",
        "fieldtype": "jira",
        "fieldId": "status",
        "from": from_id,
        "fromString": from_name or JIRA_STATUSES[from_id][0],
        "to": to_id,
        "toString": to_name or JIRA_STATUSES[to_id][0],
    }


def resolution_item(to: str | None) -> dict:
    return {
        "field": "resolution",
        "fieldtype": "jira",
        "fieldId": "resolution",
        "from": None if to else "10000",
        "fromString": None if to else "Done",
        "to": RESOLUTIONS[to]["id"] if to else None,
        "toString": to,
    }


def sprint_item(before: list[str], after: list[str]) -> dict:
    return {
        "field": "Sprint",
        "fieldtype": "custom",
        "fieldId": SPRINT_FIELD,
        "from": ", ".join(before),
        "fromString": ", ".join(SPRINTS[s]["name"] for s in before),
        "to": ", ".join(after),
        "toString": ", ".join(SPRINTS[s]["name"] for s in after),
    }


def history(history_id: str, created: str, items: list[dict], author: str = "acc-alice") -> dict:
    return {"id": history_id, "author": jira_user(author), "created": created, "items": items}


JIRA_ISSUES = [
    # (payload, histories, is_deleted)
    (
        jira_issue(
            "10101",
            "PAY-1",
            issue_type="Story",
            status_id="10001",
            assignee="acc-alice",
            summary="Card tokenisation for recurring payments",
            created="2024-03-04T09:00:00.000+0100",
            updated="2024-04-02T12:00:00.000+0200",
            resolution="Done",
            resolutiondate="2024-04-02T12:00:00.000+0200",
            duedate="2024-04-02",
            sprints=["101", "102"],
        ),
        [
            history("30011", "2024-03-04T10:00:00.000+0100", [sprint_item([], ["101"])]),
            history("30012", "2024-03-18T10:30:00.000+0100", [sprint_item(["101"], ["101", "102"])]),
            history(
                "20011",
                "2024-03-05T10:00:00.000+0100",
                [
                    {
                        "field": "assignee",
                        "fieldtype": "jira",
                        "fieldId": "assignee",
                        "from": None,
                        "fromString": None,
                        "to": "acc-alice",
                        "toString": "Alice Martin",
                    },
                    status_item("10000", "3"),
                ],
            ),
            history(
                "20012", "2024-03-07T10:00:00.000+0100", [resolution_item("Done"), status_item("3", "10001")]
            ),
            history(
                "20013", "2024-03-08T10:00:00.000+0100", [status_item("10001", "3"), resolution_item(None)]
            ),
            history(
                "20014", "2024-04-02T12:00:00.000+0200", [status_item("3", "10001"), resolution_item("Done")]
            ),
        ],
        False,
    ),
    (
        jira_issue(
            "10102",
            "PAY-2",
            issue_type="Bug",
            status_id="10001",
            assignee="acc-erin",
            summary="Refund webhook retries twice",
            labels=["backend"],
            created="2024-03-25T09:00:00.000+0100",
            updated="2024-04-05T00:30:00.000+0200",
            resolution="Done",
            resolutiondate="2024-04-05T00:30:00.000+0200",
            duedate="2024-04-04",
            sprints=["102", "103"],
        ),
        [
            history("30021", "2024-03-26T10:00:00.000+0100", [sprint_item([], ["102"])]),
            history("30022", "2024-04-03T11:00:00.000+0200", [sprint_item(["102"], ["102", "103"])]),
            history(
                "20021",
                "2024-03-26T09:00:00.000+0100",
                [status_item("10000", "10002", to_name="Code Review")],
                author="acc-erin",
            ),
            history(
                "20022",
                "2024-03-28T09:00:00.000+0100",
                [status_item("10002", "10003", from_name="Code Review")],
                author="acc-erin",
            ),
            history(
                "20023",
                "2024-04-01T10:00:00.000+0200",
                [status_item("10003", "10002", to_name="Code Review")],
                author="acc-erin",
            ),
            history(
                "20024",
                "2024-04-05T00:30:00.000+0200",
                [status_item("10002", "10001", from_name="Code Review"), resolution_item("Done")],
                author="acc-erin",
            ),
        ],
        False,
    ),
    (
        jira_issue(
            "10103",
            "PAY-3",
            issue_type="Task",
            status_id="10001",
            assignee="acc-alice",
            summary="Support legacy SEPA export",
            created="2024-03-11T09:00:00.000+0100",
            updated="2024-03-14T09:00:00.000+0100",
            resolution="Won't Do",
            resolutiondate="2024-03-14T09:00:00.000+0100",
            duedate="2024-03-20",
            sprints=["101"],
        ),
        [
            history("30031", "2024-03-11T13:00:00.000+0100", [sprint_item([], ["101"])]),
            history("20031", "2024-03-12T09:00:00.000+0100", [status_item("10000", "3")]),
            history(
                "20032",
                "2024-03-14T09:00:00.000+0100",
                [status_item("3", "10001"), resolution_item("Won't Do")],
            ),
        ],
        False,
    ),
    (
        jira_issue(
            "10104",
            "PAY-4",
            issue_type="Story",
            status_id="3",
            assignee="acc-gina",
            summary="3-D Secure v2 challenge flow",
            created="2024-03-18T09:00:00.000+0100",
            updated="2024-03-19T09:00:00.000+0100",
        ),
        [
            history("30041", "2024-03-18T09:30:00.000+0100", [sprint_item([], ["102"])]),
            history("20041", "2024-03-19T09:00:00.000+0100", [status_item("10000", "3")], author="acc-gina"),
            history("30042", "2024-03-28T10:00:00.000+0100", [sprint_item(["102"], [])]),
        ],
        False,
    ),
    (
        # two histories at the same instant: ordered by id as a number (9999 before 10000)
        jira_issue(
            "10105",
            "PAY-5",
            issue_type="Task",
            status_id="10001",
            assignee="acc-hank",
            summary="Retro: write the on-call runbook",
            labels=["Retro-Action"],
            sprints=["101"],
            created="2024-03-06T09:00:00.000+0100",
            updated="2024-03-13T09:00:00.000+0100",
            resolution="Done",
            resolutiondate="2024-03-13T09:00:00.000+0100",
        ),
        [
            history("9999", "2024-03-13T09:00:00.000+0100", [status_item("10000", "3")], author="acc-hank"),
            history(
                "10000",
                "2024-03-13T09:00:00.000+0100",
                [status_item("3", "10001"), resolution_item("Done")],
                author="acc-hank",
            ),
        ],
        False,
    ),
    (
        jira_issue(
            "10106",
            "PAY-6",
            issue_type="Task",
            status_id="10000",
            summary="Created by mistake",
            sprints=["101"],
            created="2024-03-07T09:00:00.000+0100",
            updated="2024-03-07T09:05:00.000+0100",
        ),
        [
            history("20061", "2024-03-07T09:01:00.000+0100", [status_item("10000", "3")]),
            history("30061", "2024-03-07T10:00:00.000+0100", [sprint_item([], ["101"])]),
        ],
        True,
    ),
    (
        jira_issue(
            "10201",
            "OPS-1",
            issue_type="Task",
            status_id="10001",
            assignee="acc-bob",
            summary="Rotate the database credentials",
            created="2024-03-01T10:00:00.000+0000",
            updated="2024-03-20T15:00:00.000+0000",
            resolution="Done",
            resolutiondate="2024-03-20T15:00:00.000+0000",
        ),
        [
            history("20211", "2024-03-18T10:00:00.000+0000", [status_item("10000", "3")], author="acc-bob"),
            history(
                "20212",
                "2024-03-20T15:00:00.000+0000",
                [status_item("3", "10001"), resolution_item("Done")],
                author="acc-bob",
            ),
        ],
        False,
    ),
    (
        jira_issue(
            "10202",
            "OPS-2",
            issue_type="Task",
            status_id="10000",
            summary="Evaluate a second CDN",
            created="2024-03-05T10:00:00.000+0000",
            updated="2024-03-05T10:00:00.000+0000",
        ),
        [],
        False,
    ),
    (
        jira_issue(
            "10203",
            "OPS-3",
            issue_type="Task",
            status_id="10003",
            assignee="acc-carol",
            summary="Improve incident review template",
            labels=["improvement"],
            created="2024-03-12T10:00:00.000+0000",
            updated="2024-03-13T10:00:00.000+0000",
        ),
        [
            history(
                "20231", "2024-03-13T10:00:00.000+0000", [status_item("10000", "10003")], author="acc-carol"
            )
        ],
        False,
    ),
]

# --------------------------------------------------------------------------
# GitHub
# --------------------------------------------------------------------------

GH_API = "https://api.github.com"


def gh_user(login: str, user_id: int) -> dict:
    return {
        "login": login,
        "id": user_id,
        "node_id": f"U_{user_id}",
        "type": "User",
        "site_admin": False,
        "url": f"{GH_API}/users/{login}",
        "html_url": f"https://github.com/{login}",
    }


GH_USERS = {"alice-gh": 101, "carol-gh": 103, "dave-gh": 104, "octo-bot": 199}


def gh_label(name: str) -> dict:
    return {
        "id": _stable_id(name) % 10_000_000,
        "node_id": f"LA_{name}",
        "name": name,
        "color": "ededed",
        "default": False,
        "description": None,
    }


def gh_issue(
    issue_id: int,
    repo: str,
    number: int,
    *,
    title: str,
    created_at: str,
    state: str = "open",
    state_reason: str | None = None,
    closed_at: str | None = None,
    assignee: str | None = None,
    labels: list[str] | None = None,
    milestone_due_on: str | None = None,
    pull_request: bool = False,
) -> dict:
    url = f"{GH_API}/repos/{repo}/issues/{number}"
    payload = {
        "url": url,
        "repository_url": f"{GH_API}/repos/{repo}",
        "html_url": f"https://github.com/{repo}/issues/{number}",
        "id": issue_id,
        "node_id": f"I_{issue_id}",
        "number": number,
        "title": title,
        "user": gh_user("octo-bot", GH_USERS["octo-bot"]),
        "labels": [gh_label(name) for name in (labels or [])],
        "state": state,
        "locked": False,
        "assignee": gh_user(assignee, GH_USERS[assignee]) if assignee else None,
        "assignees": [gh_user(assignee, GH_USERS[assignee])] if assignee else [],
        "milestone": None,
        "comments": 0,
        "created_at": created_at,
        "updated_at": closed_at or created_at,
        "closed_at": closed_at,
        "author_association": "MEMBER",
        "state_reason": state_reason,
        "body": None,
    }
    if milestone_due_on:
        payload["milestone"] = {
            "url": f"{GH_API}/repos/{repo}/milestones/1",
            "id": 3001,
            "number": 1,
            "title": "Sprint 10",
            "state": "open",
            "open_issues": 3,
            "closed_issues": 1,
            "created_at": "2024-02-26T09:00:00Z",
            "updated_at": "2024-03-01T09:00:00Z",
            "due_on": milestone_due_on,
            "closed_at": None,
        }
    if pull_request:
        payload["pull_request"] = {
            "url": f"{GH_API}/repos/{repo}/pulls/{number}",
            "html_url": f"https://github.com/{repo}/pull/{number}",
            "diff_url": f"https://github.com/{repo}/pull/{number}.diff",
            "patch_url": f"https://github.com/{repo}/pull/{number}.patch",
            "merged_at": closed_at,
        }
    return payload


GITHUB_ISSUES = [
    gh_issue(
        5001,
        "acme/web",
        1,
        title="Dark mode for settings",
        created_at="2024-03-04T10:00:00Z",
        state="closed",
        state_reason="completed",
        closed_at="2024-03-09T03:00:00Z",
        assignee="dave-gh",
        milestone_due_on="2024-03-08T07:00:00Z",
    ),
    gh_issue(
        5002,
        "acme/web",
        2,
        title="Login button misaligned on Safari",
        created_at="2024-03-05T12:00:00Z",
        state="closed",
        state_reason="completed",
        closed_at="2024-03-13T12:00:00Z",
        labels=["bug", "In Progress"],
    ),
    gh_issue(
        5003,
        "acme/web",
        3,
        title="Support IE 11",
        created_at="2024-03-06T09:00:00Z",
        state="closed",
        state_reason="not_planned",
        closed_at="2024-03-07T09:00:00Z",
    ),
    gh_issue(
        5004,
        "acme/web",
        4,
        title="Migrate to the new router",
        created_at="2024-03-11T09:00:00Z",
        assignee="carol-gh",
    ),
    # a pull request as the issues endpoint returns it: never a work item
    gh_issue(
        5005,
        "acme/web",
        5,
        title="Fix Safari login button",
        created_at="2024-03-12T09:00:00Z",
        state="closed",
        closed_at="2024-03-13T11:00:00Z",
        assignee="dave-gh",
        pull_request=True,
    ),
    gh_issue(
        6001,
        "acme/tools",
        1,
        title="Retro: add a release checklist",
        created_at="2024-03-12T09:00:00Z",
        state="closed",
        state_reason="completed",
        closed_at="2024-03-14T09:00:00Z",
        assignee="alice-gh",
        labels=["retro-action"],
    ),
]

GITHUB_PULL_REQUESTS = [
    {
        "url": f"{GH_API}/repos/acme/web/pulls/5",
        "id": 9001,
        "node_id": "PR_9001",
        "number": 5,
        "state": "closed",
        "locked": False,
        "title": "Fix Safari login button",
        "user": gh_user("dave-gh", GH_USERS["dave-gh"]),
        "body": "Fixes #2",
        "created_at": "2024-03-12T09:00:00Z",
        "updated_at": "2024-03-13T11:00:00Z",
        "closed_at": "2024-03-13T11:00:00Z",
        "merged_at": "2024-03-13T11:00:00Z",
        "draft": False,
        "head": {"ref": "fix-safari"},
        "base": {"ref": "main"},
    },
]


def gh_event(
    event_id: int, repo: str, number: int, issue_id: int, event: str, created_at: str, **extra
) -> dict:
    payload = {
        "id": event_id,
        "node_id": f"E_{event_id}",
        "url": f"{GH_API}/repos/{repo}/issues/events/{event_id}",
        "actor": gh_user("carol-gh", GH_USERS["carol-gh"]),
        "event": event,
        "commit_id": None,
        "commit_url": None,
        "created_at": created_at,
        "performed_via_github_app": None,
        "issue": {"id": issue_id, "number": number, "url": f"{GH_API}/repos/{repo}/issues/{number}"},
    }
    if "assignee" in extra:
        login = extra["assignee"]
        payload["assignee"] = gh_user(login, GH_USERS[login])
        payload["assigner"] = gh_user("carol-gh", GH_USERS["carol-gh"])
    if "label" in extra:
        payload["label"] = {"name": extra["label"], "color": "ededed"}
    if "state_reason" in extra:
        payload["state_reason"] = extra["state_reason"]
    return payload


GITHUB_EVENTS = [
    gh_event(7001, "acme/web", 1, 5001, "assigned", "2024-03-05T10:00:00Z", assignee="dave-gh"),
    gh_event(7002, "acme/web", 1, 5001, "closed", "2024-03-09T03:00:00Z", state_reason="completed"),
    gh_event(7011, "acme/web", 2, 5002, "labeled", "2024-03-05T12:01:00Z", label="bug"),
    gh_event(7012, "acme/web", 2, 5002, "labeled", "2024-03-06T12:00:00Z", label="In Progress"),
    gh_event(7013, "acme/web", 2, 5002, "closed", "2024-03-07T12:00:00Z"),
    gh_event(7014, "acme/web", 2, 5002, "reopened", "2024-03-11T12:00:00Z"),
    gh_event(7015, "acme/web", 2, 5002, "closed", "2024-03-13T12:00:00Z"),
    gh_event(7021, "acme/web", 3, 5003, "closed", "2024-03-07T09:00:00Z", state_reason="not_planned"),
    gh_event(7031, "acme/web", 4, 5004, "assigned", "2024-03-12T09:00:00Z", assignee="carol-gh"),
    gh_event(7041, "acme/web", 5, 5005, "assigned", "2024-03-12T09:05:00Z", assignee="dave-gh"),
    gh_event(7042, "acme/web", 5, 5005, "closed", "2024-03-13T11:00:00Z"),
]

# --------------------------------------------------------------------------
# Linear
# --------------------------------------------------------------------------

LINEAR_ISSUES = [
    {
        "id": "9a1c5c1e-0000-4000-8000-000000000001",
        "identifier": "ENG-1",
        "title": "Payment links in emails",
        "createdAt": "2024-03-04T08:00:00.000Z",
        "updatedAt": "2024-03-07T08:00:00.000Z",
        "startedAt": "2024-03-05T08:00:00.000Z",
        "completedAt": "2024-03-07T08:00:00.000Z",
        "canceledAt": None,
        "dueDate": "2024-03-06",
        "state": {"id": "5e1f0000-0000-4000-8000-00000000d0e5", "name": "Done", "type": "completed"},
        "team": {"id": "7ea40000-0000-4000-8000-000000000001", "key": "ENG", "name": "Engineering"},
        "assignee": {"id": "u-erin", "name": "Erin Moreau", "email": "erin@example.com"},
        "labels": {"nodes": [{"id": "l-1", "name": "Feature"}]},
    },
]

# --------------------------------------------------------------------------
# Okta System Log
# --------------------------------------------------------------------------


def okta_event(
    uuid: str,
    published: str,
    event_type: str,
    email: str,
    app: str | None,
    result: str = "SUCCESS",
    app_first: bool = False,
) -> dict:
    targets = []
    if app is not None:
        app_user = {
            "id": f"0ua{uuid[:6]}",
            "type": "AppUser",
            "alternateId": email,
            "displayName": email,
            "detailEntry": None,
        }
        app_instance = {
            "id": f"0oa{_stable_id(app) % 100000}",
            "type": "AppInstance",
            "alternateId": app,
            "displayName": app,
            "detailEntry": {"signOnModeType": "SAML_2_0"},
        }
        targets = [app_instance, app_user] if app_first else [app_user, app_instance]
    return {
        "actor": {
            "id": f"00u{_stable_id(email) % 100000}",
            "type": "User",
            "alternateId": email,
            "displayName": email.split("@")[0].title(),
            "detailEntry": None,
        },
        "client": {
            "userAgent": {"rawUserAgent": "Mozilla/5.0", "os": "Mac OS X", "browser": "CHROME"},
            "zone": "null",
            "device": "Computer",
            "ipAddress": "192.0.2.10",
        },
        "authenticationContext": {"externalSessionId": "102abc"},
        "displayMessage": "User single sign on to app"
        if event_type == "user.authentication.sso"
        else "User login to Okta",
        "eventType": event_type,
        "outcome": {"result": result, "reason": None if result == "SUCCESS" else "INVALID_CREDENTIALS"},
        "published": published,
        "severity": "INFO",
        "legacyEventType": "app.auth.sso",
        "transaction": {"type": "WEB", "id": f"tx-{uuid}"},
        "uuid": uuid,
        "version": "0",
        "target": targets,
    }


OKTA_EVENTS = [
    okta_event(
        "a0000001-0000-4000-8000-000000000001",
        "2024-03-05T09:00:00.000Z",
        "user.authentication.sso",
        "alice@example.com",
        "Figma",
    ),
    okta_event(
        "a0000001-0000-4000-8000-000000000002",
        "2024-03-05T15:00:00.000Z",
        "user.authentication.sso",
        "alice@example.com",
        "Figma Design",
    ),
    okta_event(
        "a0000001-0000-4000-8000-000000000003",
        "2024-03-13T23:30:00.000Z",
        "user.authentication.sso",
        "bob@example.com",
        "FIGMA",
    ),
    okta_event(
        "a0000001-0000-4000-8000-000000000004",
        "2024-03-06T09:00:00.000Z",
        "user.authentication.sso",
        "carol@example.com",
        "Figma",
        result="FAILURE",
    ),
    okta_event(
        "a0000001-0000-4000-8000-000000000005",
        "2024-03-06T09:00:00.000Z",
        "user.session.start",
        "dave@example.com",
        None,
    ),
    okta_event(
        "a0000001-0000-4000-8000-000000000006",
        "2024-03-06T09:10:00.000Z",
        "user.authentication.sso",
        "dave@example.com",
        "Slack",
    ),
    okta_event(
        "a0000001-0000-4000-8000-000000000007",
        "2024-03-06T09:20:00.000Z",
        "user.authentication.sso",
        "contractor@vendor.example",
        "Figma",
    ),
    okta_event(
        "a0000001-0000-4000-8000-000000000008",
        "2024-03-12T08:00:00.000Z",
        "user.authentication.sso",
        "erin@example.com",
        "Figma",
        app_first=True,
    ),
]

# --------------------------------------------------------------------------
# Usage logs (typed rows, as the loader lands them)
# --------------------------------------------------------------------------

USAGE_EVENTS = [
    # event_key, occurred_at (UTC), user_email, tool, event
    ("u-1", "2024-03-05 10:00:00+00", "alice@example.com", "cursor-ide", "completion_accepted"),
    ("u-2", "2024-03-05 11:00:00+00", "alice@example.com", "cursor-ide", "chat_message"),
    ("u-3", "2024-03-06 10:00:00+00", "erin@example.com", "Cursor AI", "completion_accepted"),
    ("u-4", "2024-03-07 10:00:00+00", "carol@example.com", "cursor", "chat_message"),
    ("u-5", "2024-03-12 10:00:00+00", "dave@example.com", "CURSOR-IDE", "completion_accepted"),
    ("u-6", "2024-03-12 11:00:00+00", "dave@example.com", "vim", "file_saved"),
    ("u-7", "2024-03-05 12:00:00+00", "alice@example.com", "Figma", "file_opened"),
    # An anonymous id nobody on the roster lists: lands, counts for nobody, and is
    # counted in usage_unmatched_daily (with the contractor's Figma SSO of 03-06).
    ("u-11", "2024-03-06 12:00:00+00", "anon-7f3c", "cursor-ide", "completion_accepted"),
    ("u-12", "2024-03-06 13:00:00+00", "anon-7f3c", "Cursor AI", "chat_message"),
]

# --------------------------------------------------------------------------
# Surveys (typed rows, respondent already a salted hash)
# --------------------------------------------------------------------------

LIKERT = [("workload", 1.0, 5.0), ("tools", 1.0, 5.0)]
RECOMMEND = ("recommend", 0.0, 10.0)

# response_key, wave, submitted_at, respondent, team answer, workload, tools, recommend
SURVEY_RESPONSES = [
    # One response per respondent and wave: the loader keeps the last submission.
    ("resp-02", "2024-Q1", "2024-03-21 09:00:00+00", "r1", "payments", 5, 4, 10),
    ("resp-03", "2024-Q1", "2024-03-20 10:00:00+00", "r2", "PAYMENTS", 3, None, 9),
    ("resp-04", "2024-Q1", "2024-03-21 10:00:00+00", "r3", " Payments ", 2, 3, 7),
    ("resp-05", "2024-Q1", "2024-03-22 10:00:00+00", "r4", "payments", 4, 4, 6),
    ("resp-06", "2024-Q1", "2024-03-22 11:00:00+00", "r5", "Payments", None, None, None),
    ("resp-07", "2024-Q1", "2024-03-21 12:00:00+00", "r6", "Platform", 4, 5, 8),
    ("resp-08", "2024-Q1", "2024-03-22 12:00:00+00", "r7", "platform", 2, 2, 3),
    ("resp-09", "2024-Q1", "2024-03-22 13:00:00+00", "r8", "Growth", 5, 5, 10),
    ("resp-10", "2024-Q2", "2024-04-03 09:00:00+00", "r1", "payments", 1, 1, 2),
    ("resp-11", "2024-Q2", "2024-04-03 10:00:00+00", "r2", "payments", 2, 2, 3),
]


def _json(value: dict) -> str:
    return json.dumps(value, ensure_ascii=False)


def build(path: Path, loaded_at: datetime = LOADED_AT) -> Path:
    """Create (or replace) the DuckDB file at ``path`` with the fixture raw layer."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    con = duckdb.connect(str(path))
    try:
        for statement in create_statements():
            con.execute(statement)
        audit = (loaded_at, RUN_ID)

        for status_id, (name, category) in JIRA_STATUSES.items():
            con.execute(
                "insert into raw.jira_statuses values (?, ?, ?, ?, ?, ?)",
                (status_id, name, category, _json(jira_status(status_id)), *audit),
            )
        for payload, histories, is_deleted in JIRA_ISSUES:
            con.execute(
                "insert into raw.jira_issues values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    payload["id"],
                    payload["key"],
                    payload["key"].split("-")[0],
                    _jira_instant(payload["fields"]["updated"]),
                    len(histories),
                    _json(payload),
                    f"{JIRA_BASE}/rest/api/3/search/jql",
                    is_deleted,
                    loaded_at if is_deleted else None,
                    *audit,
                ),
            )
            for entry in histories:
                con.execute(
                    "insert into raw.jira_changelogs values (?, ?, ?, ?, ?, ?)",
                    (entry["id"], payload["id"], _jira_instant(entry["created"]), _json(entry), *audit),
                )

        for payload in GITHUB_ISSUES:
            repo = payload["repository_url"].removeprefix(f"{GH_API}/repos/")
            con.execute(
                "insert into raw.github_issues values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    payload["id"],
                    repo,
                    payload["number"],
                    _iso_instant(payload["updated_at"]),
                    _json(payload),
                    f"{GH_API}/repos/{repo}/issues?state=all&per_page=100",
                    False,
                    None,
                    *audit,
                ),
            )
        for payload in GITHUB_PULL_REQUESTS:
            con.execute(
                "insert into raw.github_pull_requests values (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    payload["id"],
                    "acme/web",
                    payload["number"],
                    _iso_instant(payload["updated_at"]),
                    _json(payload),
                    f"{GH_API}/repos/acme/web/issues?state=all&per_page=100",
                    *audit,
                ),
            )
        for payload in GITHUB_EVENTS:
            repo = payload["url"].removeprefix(f"{GH_API}/repos/").split("/issues/")[0]
            con.execute(
                "insert into raw.github_issue_events values (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    payload["id"],
                    repo,
                    payload["issue"]["number"],
                    payload["event"],
                    _iso_instant(payload["created_at"]),
                    _json(payload),
                    *audit,
                ),
            )

        for payload in LINEAR_ISSUES:
            con.execute(
                "insert into raw.linear_issues values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    payload["id"],
                    payload["identifier"],
                    payload["team"]["key"],
                    _iso_instant(payload["updatedAt"]),
                    _json(payload),
                    False,
                    None,
                    *audit,
                ),
            )

        for payload in OKTA_EVENTS:
            con.execute(
                "insert into raw.okta_system_log values (?, ?, ?, ?, ?, ?)",
                (
                    payload["uuid"],
                    _iso_instant(payload["published"]),
                    payload["eventType"],
                    _json(payload),
                    *audit,
                ),
            )

        for line, (key, occurred_at, email, tool, event) in enumerate(USAGE_EVENTS, start=1):
            con.execute(
                "insert into raw.usage_events (event_key, occurred_at, user_email, tool, event, _source_file,"
                " _line_number, _loaded_at, _run_id) values (?, cast(? as timestamptz), ?, ?, ?, ?, ?, ?, ?)",
                # one export file per day, as usage logs are usually shipped
                (key, occurred_at, email, tool, event, f"usage/{occurred_at[:10]}.jsonl", line, *audit),
            )

        for line, row in enumerate(SURVEY_RESPONSES, start=2):
            key, wave, submitted_at, respondent, team_answer, workload, tools, recommend = row
            con.execute(
                "insert into raw.survey_responses"
                " values (?, ?, ?, ?, cast(? as timestamptz), ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    "pulse",
                    "google_forms",
                    wave,
                    submitted_at,
                    f"hash-{respondent}",
                    team_answer,
                    f"surveys/pulse-{wave}.csv",
                    line,
                    *audit,
                ),
            )
            for (item_id, low, high), value in zip(LIKERT, (workload, tools), strict=True):
                con.execute(
                    "insert into raw.survey_answers values (?, ?, 'likert', ?, ?, ?, ?, ?)",
                    (key, item_id, value, low, high, *audit),
                )
            con.execute(
                "insert into raw.survey_answers values (?, ?, 'recommend', ?, ?, ?, ?, ?)",
                (key, RECOMMEND[0], recommend, RECOMMEND[1], RECOMMEND[2], *audit),
            )
    finally:
        con.close()
    return path


# --------------------------------------------------------------------------
# A later load, for the incremental builds (tests/test_dbt_models.py)
# --------------------------------------------------------------------------

LATER_RUN_ID = "fixture-run-2"


def land_later(path: Path, loaded_at: datetime) -> Path:
    """Land what a later run would bring, with ``_loaded_at`` = ``loaded_at``.

    * PAY-4 is done (a new history; the issue and its histories re-landed, as
      the Jira connector does for an updated issue);
    * PAY-7 is new, created straight into Sprint 3 and started;
    * OPS-3 was deleted in Jira;
    * acme/web#4 was closed (a new event; the issue re-landed);
    * usage: a late event for 2024-03-05 (Gina, Cursor), a new day
      (2024-04-11, Alice, Cursor); the file of 2024-03-07 was exported again
      with Dave's use instead of Carol's (u-4), and the file of 2024-03-12
      again with no event at all (u-5, u-6 gone): the loader replaces a
      changed file's rows;
    * Okta: Hank signs on to Figma on 2024-04-11.
    """
    con = duckdb.connect(str(path))
    try:
        audit = (loaded_at, LATER_RUN_ID)
        done = jira_issue(
            "10104",
            "PAY-4",
            issue_type="Story",
            status_id="10001",
            assignee="acc-gina",
            summary="3-D Secure v2 challenge flow",
            created="2024-03-18T09:00:00.000+0100",
            updated="2024-04-11T09:00:00.000+0200",
            resolution="Done",
            resolutiondate="2024-04-11T09:00:00.000+0200",
        )
        new = jira_issue(
            "10107",
            "PAY-7",
            issue_type="Task",
            status_id="3",
            assignee="acc-alice",
            summary="Retry declined renewals",
            created="2024-04-08T09:00:00.000+0200",
            updated="2024-04-09T09:00:00.000+0200",
            sprints=["103"],
        )
        histories = {
            "10104": [
                *next(h for p, h, _ in JIRA_ISSUES if p["id"] == "10104"),
                history(
                    "20042",
                    "2024-04-11T09:00:00.000+0200",
                    [status_item("3", "10001"), resolution_item("Done")],
                    author="acc-gina",
                ),
            ],
            "10107": [history("20071", "2024-04-09T09:00:00.000+0200", [status_item("10000", "3")])],
        }
        for payload in (done, new):
            entries = histories[payload["id"]]
            con.execute(
                "insert or replace into raw.jira_issues values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    payload["id"],
                    payload["key"],
                    "PAY",
                    _jira_instant(payload["fields"]["updated"]),
                    len(entries),
                    _json(payload),
                    f"{JIRA_BASE}/rest/api/3/search/jql",
                    False,
                    None,
                    *audit,
                ),
            )
            for entry in entries:
                con.execute(
                    "insert or replace into raw.jira_changelogs values (?, ?, ?, ?, ?, ?)",
                    (entry["id"], payload["id"], _jira_instant(entry["created"]), _json(entry), *audit),
                )
        con.execute(
            "update raw.jira_issues set is_deleted = true, deleted_at = ?, _loaded_at = ?, _run_id = ?"
            " where issue_key = 'OPS-3'",
            [loaded_at, *audit],
        )

        closed = gh_issue(
            5004,
            "acme/web",
            4,
            title="Migrate to the new router",
            created_at="2024-03-11T09:00:00Z",
            state="closed",
            state_reason="completed",
            closed_at="2024-04-11T09:00:00Z",
            assignee="carol-gh",
        )
        con.execute(
            "update raw.github_issues set payload = ?, updated_at = ?, _loaded_at = ?, _run_id = ?"
            " where issue_id = 5004",
            [_json(closed), _iso_instant(closed["updated_at"]), *audit],
        )
        event = gh_event(
            7032, "acme/web", 4, 5004, "closed", "2024-04-11T09:00:00Z", state_reason="completed"
        )
        con.execute(
            "insert into raw.github_issue_events values (?, ?, ?, ?, ?, ?, ?, ?)",
            (7032, "acme/web", 4, "closed", _iso_instant(event["created_at"]), _json(event), *audit),
        )

        con.execute(
            "delete from raw.usage_events"
            " where _source_file in ('usage/2024-03-07.jsonl', 'usage/2024-03-12.jsonl')"
        )
        for line, (key, occurred_at, email, tool, name) in enumerate(
            [
                ("u-8", "2024-03-05 16:00:00+00", "gina@example.com", "cursor-ide", "completion_accepted"),
                ("u-9", "2024-04-11 10:00:00+00", "alice@example.com", "Cursor AI", "chat_message"),
                ("u-10", "2024-03-07 11:00:00+00", "dave@example.com", "cursor-ide", "chat_message"),
            ],
            start=1,
        ):
            con.execute(
                "insert into raw.usage_events (event_key, occurred_at, user_email, tool, event, _source_file,"
                " _line_number, _loaded_at, _run_id) values (?, cast(? as timestamptz), ?, ?, ?, ?, ?, ?, ?)",
                (key, occurred_at, email, tool, name, f"usage/{occurred_at[:10]}.jsonl", line, *audit),
            )

        sso = okta_event(
            "a0000001-0000-4000-8000-000000000009",
            "2024-04-11T09:00:00.000Z",
            "user.authentication.sso",
            "hank@example.com",
            "Figma",
        )
        con.execute(
            "insert into raw.okta_system_log values (?, ?, ?, ?, ?, ?)",
            (sso["uuid"], _iso_instant(sso["published"]), sso["eventType"], _json(sso), *audit),
        )
    finally:
        con.close()
    return path


def _jira_instant(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)


def _iso_instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[-1])
    print(build(Path(sys.argv[1])))
