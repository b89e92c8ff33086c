"""One small organisation's trackers, served by tests/fake_trackers.py.

Worked by hand (instants in UTC; Paris moves to summer time on 2026-03-29,
New York on 2026-03-08, so a local-clock difference would be an hour off):

Jira, project PAY (team payments, Europe/Paris), API user in Europe/Paris:

* PAY-1 created 03-26 09:00+0100 (08:00Z); In Progress 03-27 10:00+0100
  (09:00Z); Done 03-28 10:00+0100 (09:00Z); reopened to In Progress 03-30
  10:00+0200 (08:00Z); Done 03-31 12:00+0200 (10:00Z). Four histories, two
  embedded in the search page (`changelog.total` = 4): the last two come
  from the changelog endpoint, two per page.
  lead 08:00Z 03-26 → 10:00Z 03-31 = 122 h; cycle 09:00Z 03-27 → = 97 h;
  active 24 h + 26 h = 50 h; 1 reopen.
* PAY-2 created 03-23 09:00+0100 (08:00Z); "Code Review" (status 10002, since
  renamed "In Review", category indeterminate) 03-24 09:00+0100 (08:00Z);
  Blocked (10003, which the status mapping puts in todo for PAY) 03-25
  09:00+0100 (08:00Z); back in review 03-26 15:00+0100 (14:00Z); Done 03-30
  09:00+0200 (07:00Z). Assignee deactivated (no email). Due 03-30: on time.
  lead 167 h; cycle 143 h; active 24 h + 89 h = 113 h; 0 reopens.
* PAY-3 created 03-27 11:00+0100, In Progress 03-28 11:00+0100 (10:00Z), no
  assignee: in progress, no lead or cycle time.

GitHub, acme/web (team platform, America/New_York):

* #1 created 03-06 15:00Z, assigned 03-07 15:00Z, closed (completed) 03-09
  15:00Z: lead 72 h, cycle 48 h, active 48 h, 0 reopens.
* #2 created 03-01 12:00Z, labelled "In Progress" 03-02 12:00Z, closed 03-03
  12:00Z, reopened (nobody assigned: back to todo) 03-04 12:00Z, closed 03-05
  12:00Z: lead 96 h, cycle 72 h, active 24 h, 1 reopen.
* #3 created 03-09 12:00Z, closed 03-10 12:00Z with a state_reason outside
  the published enum ("superseded"): not canceled, lead 24 h, never started.
* #4 is a pull request: never a work item.

Linear, team ENG (team growth):

* ENG-1 created 03-27 08:00Z, started 03-28 08:00Z, completed 03-30 20:00Z:
  lead 84 h, cycle 60 h, active 60 h.
* ENG-2 created 03-29 00:30Z, canceled 03-29 06:30Z: canceled, no lead time.
* ENG-3 created 03-30 09:00Z, started 03-30 10:00Z: in progress.
* ENG-4 is in the trash: never a work item.
"""

from __future__ import annotations

from tests.fake_trackers import (
    JiraIssue,
    gh_event,
    gh_issue,
    jira_history,
    jira_status,
    jira_status_item,
    jira_user,
    linear_issue,
)

# id -> (current name, category). 10002 was "Code Review" when PAY-2 went through it.
JIRA_STATUSES = {
    "10000": ("To Do", "new"),
    "3": ("In Progress", "indeterminate"),
    "10001": ("Done", "done"),
    "10002": ("In Review", "indeterminate"),
    "10003": ("Blocked", "indeterminate"),
}

ALICE = jira_user("acc-alice", "Alice Martin", "alice@example.com")
FORMER = jira_user("acc-gone", "Former user", None, active=False)


def statuses() -> list[dict]:
    return [jira_status(sid, name, category) for sid, (name, category) in JIRA_STATUSES.items()]


def _status(sid: str) -> dict:
    name, category = JIRA_STATUSES[sid]
    return jira_status(sid, name, category)


def _fields(key: str, *, status: str, created: str, updated: str, **extra) -> dict:
    fields = {
        "summary": f"Summary of {key}",
        "issuetype": {"id": "10001", "name": "Story", "subtask": False, "hierarchyLevel": 0},
        "project": {
            "id": "10000",
            "key": key.split("-")[0],
            "name": "Payments",
            "projectTypeKey": "software",
        },
        "status": _status(status),
        "resolution": None,
        "resolutiondate": None,
        "created": created,
        "updated": updated,
        "duedate": None,
        "labels": [],
        "assignee": None,
        "customfield_10020": None,
    }
    fields.update(extra)
    return fields


DONE = {"id": "10000", "name": "Done", "description": "Work has been completed on this issue."}


def jira_issues() -> list[JiraIssue]:
    todo, progress, done, review, blocked = "10000", "3", "10001", "10002", "10003"
    return [
        JiraIssue(
            "10101",
            "PAY-1",
            _fields(
                "PAY-1",
                status=done,
                created="2026-03-26T09:00:00.000+0100",
                updated="2026-03-31T12:00:00.000+0200",
                resolution=DONE,
                resolutiondate="2026-03-31T12:00:00.000+0200",
                assignee=ALICE,
            ),
            [
                jira_history(
                    "20011",
                    "2026-03-27T10:00:00.000+0100",
                    [jira_status_item(todo, "To Do", progress, "In Progress")],
                ),
                jira_history(
                    "20012",
                    "2026-03-28T10:00:00.000+0100",
                    [jira_status_item(progress, "In Progress", done, "Done")],
                ),
                jira_history(
                    "20013",
                    "2026-03-30T10:00:00.000+0200",
                    [jira_status_item(done, "Done", progress, "In Progress")],
                ),
                jira_history(
                    "20014",
                    "2026-03-31T12:00:00.000+0200",
                    [jira_status_item(progress, "In Progress", done, "Done")],
                ),
            ],
        ),
        JiraIssue(
            "10102",
            "PAY-2",
            _fields(
                "PAY-2",
                status=done,
                created="2026-03-23T09:00:00.000+0100",
                updated="2026-03-30T09:00:00.000+0200",
                resolution=DONE,
                resolutiondate="2026-03-30T09:00:00.000+0200",
                duedate="2026-03-30",
                assignee=FORMER,
            ),
            [
                jira_history(
                    "20021",
                    "2026-03-24T09:00:00.000+0100",
                    [jira_status_item(todo, "To Do", review, "Code Review")],
                ),
                jira_history(
                    "20022",
                    "2026-03-25T09:00:00.000+0100",
                    [jira_status_item(review, "Code Review", blocked, "Blocked")],
                ),
                jira_history(
                    "20023",
                    "2026-03-26T15:00:00.000+0100",
                    [jira_status_item(blocked, "Blocked", review, "Code Review")],
                ),
                jira_history(
                    "20024",
                    "2026-03-30T09:00:00.000+0200",
                    [jira_status_item(review, "Code Review", done, "Done")],
                ),
            ],
        ),
        JiraIssue(
            "10103",
            "PAY-3",
            _fields(
                "PAY-3",
                status=progress,
                created="2026-03-27T11:00:00.000+0100",
                updated="2026-03-28T11:00:00.000+0100",
            ),
            [
                jira_history(
                    "20031",
                    "2026-03-28T11:00:00.000+0100",
                    [jira_status_item(todo, "To Do", progress, "In Progress")],
                )
            ],
        ),
    ]


# ------------------------------------------------------------------- GitHub

REPO = "acme/web"
REPO_ID = 42


def github_issues() -> list[dict]:
    return [
        gh_issue(
            5001,
            REPO,
            1,
            created_at="2026-03-06T15:00:00Z",
            state="closed",
            state_reason="completed",
            closed_at="2026-03-09T15:00:00Z",
            assignee="dave-gh",
        ),
        gh_issue(
            5002,
            REPO,
            2,
            created_at="2026-03-01T12:00:00Z",
            state="closed",
            state_reason="completed",
            closed_at="2026-03-05T12:00:00Z",
            labels=("bug", "In Progress"),
        ),
        gh_issue(
            5003,
            REPO,
            3,
            created_at="2026-03-09T12:00:00Z",
            state="closed",
            state_reason="superseded",
            closed_at="2026-03-10T12:00:00Z",
        ),
        gh_issue(
            5004,
            REPO,
            4,
            created_at="2026-03-07T09:00:00Z",
            state="closed",
            closed_at="2026-03-08T09:00:00Z",
            pull_request=True,
        ),
    ]


def github_events(issues: list[dict]) -> list[dict]:
    by_number = {issue["number"]: issue for issue in issues}
    one, two, four = by_number[1], by_number[2], by_number[4]
    return [
        gh_event(7001, one, "assigned", "2026-03-07T15:00:00Z", assignee="dave-gh"),
        gh_event(7002, one, "closed", "2026-03-09T15:00:00Z", state_reason="completed"),
        gh_event(7011, two, "labeled", "2026-03-01T12:01:00Z", label="bug"),
        gh_event(7012, two, "labeled", "2026-03-02T12:00:00Z", label="In Progress"),
        gh_event(7013, two, "closed", "2026-03-03T12:00:00Z"),
        gh_event(7014, two, "reopened", "2026-03-04T12:00:00Z"),
        gh_event(7015, two, "closed", "2026-03-05T12:00:00Z"),
        gh_event(7041, four, "closed", "2026-03-08T09:00:00Z"),
    ]


# ------------------------------------------------------------------- Linear

DONE_STATE = ("5e1f0000-0000-4000-8000-00000000d0e5", "Done", "completed")
CANCELED_STATE = ("5e1f0000-0000-4000-8000-00000000ca11", "Canceled", "canceled")
STARTED_STATE = ("5e1f0000-0000-4000-8000-00000000505a", "In Progress", "started")


def linear_issues() -> list[dict]:
    return [
        linear_issue(
            "9a1c5c1e-0000-4000-8000-000000000001",
            "ENG-1",
            created_at="2026-03-27T08:00:00.000Z",
            updated_at="2026-03-30T20:00:00.000Z",
            started_at="2026-03-28T08:00:00.000Z",
            completed_at="2026-03-30T20:00:00.000Z",
            state=DONE_STATE,
            assignee_email="erin@example.com",
            labels=("Feature",),
        ),
        linear_issue(
            "9a1c5c1e-0000-4000-8000-000000000002",
            "ENG-2",
            created_at="2026-03-29T00:30:00.000Z",
            updated_at="2026-03-29T06:30:00.000Z",
            canceled_at="2026-03-29T06:30:00.000Z",
            state=CANCELED_STATE,
        ),
        linear_issue(
            "9a1c5c1e-0000-4000-8000-000000000003",
            "ENG-3",
            created_at="2026-03-30T09:00:00.000Z",
            updated_at="2026-03-30T10:00:00.000Z",
            started_at="2026-03-30T10:00:00.000Z",
            state=STARTED_STATE,
        ),
        linear_issue(
            "9a1c5c1e-0000-4000-8000-000000000004",
            "ENG-4",
            created_at="2026-03-20T09:00:00.000Z",
            updated_at="2026-03-21T09:00:00.000Z",
            state=DONE_STATE,
            trashed=True,
        ),
    ]
