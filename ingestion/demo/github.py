"""GitHub REST recordings: repository issues (pull requests mixed in) and issue events.

`GET /repos/{owner}/{repo}/issues` pages (100 a page, ordered by `updated`
as the connector asks) follow each other by `Link` headers; pull requests
share the issue numbering and carry a `pull_request` key. `GET
/repos/{owner}/{repo}/issues/events` pages are newest first, like the real
API. Events agree with the issues: an issue's closing time is its last
`closed` event, `state_reason` tells completed from not planned, the first
`assigned` event is when work started. Milestones carry `due_on` at midnight
Pacific time, as GitHub stores them.
"""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from ingestion.demo.catalog import PULL_REQUEST_SHARE, REPOS, TEAM_BY_ID, Repo
from ingestion.demo.flow import GITHUB_PROFILE, cycle_factor_for
from ingestion.demo.org import Org, Person
from ingestion.demo.planning import ContainerSpec, PlannedItem, pick_assignee, plan_items
from ingestion.demo.recording import Recorder
from ingestion.demo.timekeeping import (
    Window,
    at_local,
    iso_z,
    local_date,
    lognormal,
    working_time,
    zone,
)
from ingestion.demo.workflow import COMPLETED, DONE, IN_PROGRESS

BASE = "{base}"
PAGE_SIZE = 100
LABEL_COLOURS = {
    "bug": "d73a4a",
    "enhancement": "a2eeef",
    "chore": "ededed",
    "needs-triage": "fbca04",
    "retro-action": "5319e7",
    "improvement": "0e8a16",
    "dependencies": "0366d6",
}
DEPENDABOT = {
    "login": "dependabot[bot]",
    "id": 49699333,
    "node_id": "MDM6Qm90NDk2OTkzMzM=",
    "type": "Bot",
    "site_admin": False,
}
PULL_TOPICS = ("handlers", "config loading", "retry logic", "tests", "CI cache", "models")
MILESTONE_ZONE = "America/Los_Angeles"  # GitHub stores due dates at Pacific midnight


def github_user(person: Person) -> dict[str, Any]:
    node = base64.b64encode(f"04:User{person.github_id}".encode()).decode()
    return {
        "login": person.github_login,
        "id": person.github_id,
        "node_id": node,
        "type": "User",
        "site_admin": False,
    }


@dataclass
class _Event:
    at: datetime
    kind: str
    actor: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)
    event_id: int = 0


@dataclass
class _Milestone:
    number: int
    milestone_id: int
    title: str
    due: date
    created: datetime

    def payload(self, repo: str, window: Window) -> dict[str, Any]:
        due_on = at_local(self.due, 0.0, zone(MILESTONE_ZONE))
        closed = due_on + timedelta(days=1, hours=2)
        return {
            "url": f"{BASE}/repos/{repo}/milestones/{self.number}",
            "html_url": f"https://github.com/{repo}/milestone/{self.number}",
            "id": self.milestone_id,
            "node_id": "MI_kwDOH" + base64.b64encode(str(self.milestone_id).encode()).decode(),
            "number": self.number,
            "title": self.title,
            "description": None,
            "state": "closed" if closed < window.end else "open",
            "created_at": iso_z(self.created),
            "due_on": iso_z(due_on),
            "closed_at": iso_z(closed) if closed < window.end else None,
        }


@dataclass
class GitHubItem:
    repo: Repo
    created: datetime
    title: str
    author: dict[str, Any]
    is_pull: bool
    events: list[_Event] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    assignee: dict[str, Any] | None = None
    milestone: _Milestone | None = None
    state: str = "open"
    state_reason: str | None = None
    closed_at: datetime | None = None
    merged_at: datetime | None = None
    comments: int = 0
    number: int = 0
    item_id: int = 0
    node_id: str = ""
    updated: datetime | None = None


@dataclass
class GitHubResult:
    issues: int
    pull_requests: int
    events: int
    exchanges: int


def _milestones(repo: Repo, window: Window, first_id: int) -> list[_Milestone]:
    """Monthly release milestones due on the last day of each month."""
    out = []
    month = date(window.start_date.year, window.start_date.month, 1)
    while month <= window.run_date + timedelta(days=62):
        following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        due = following - timedelta(days=1)
        created = at_local(month - timedelta(days=20), 10.0, zone("UTC"))
        out.append(_Milestone(len(out) + 1, first_id + len(out), f"{month:%Y.%m}", due, created))
        month = following
    return out


def _issue_events(rng: random.Random, item: GitHubItem, plan: PlannedItem, org: Org, window: Window) -> None:
    reporter = github_user(plan.reporter)
    labels: list[str] = []
    initial = list(plan.labels) or {"bug": ["bug"], "story": ["enhancement"]}.get(
        plan.kind, ["chore"] if rng.random() < 0.4 else []
    )
    if rng.random() < 0.3:
        initial.append("needs-triage")
    for n, label in enumerate(initial):
        at = plan.created + timedelta(seconds=2 + 3 * n)
        item.events.append(_Event(at, "labeled", reporter, {"label": label}))
        labels.append(label)

    person = plan.assignee
    assigned_at: datetime | None = None
    if person is not None:
        begin = plan.started or (plan.steps[0].at if plan.steps else None)
        if begin is None or rng.random() < 0.1:  # triaged and assigned on the spot
            begin = plan.created + timedelta(minutes=rng.randint(1, 30))
        if begin < window.end:
            assigned_at = begin
            actor = github_user(person) if rng.random() < 0.6 else reporter
            item.events.append(_Event(begin, "assigned", actor, {"assignee": github_user(person)}))
            item.assignee = github_user(person)
            if "needs-triage" in labels:
                item.events.append(
                    _Event(begin + timedelta(seconds=1), "unlabeled", actor, {"label": "needs-triage"})
                )
                labels.remove("needs-triage")

    done = plan.resolved
    if assigned_at is not None and person is not None and done and rng.random() < 0.08:
        # Handed over half-way: first assignment still marks the start.
        tz = plan.tz
        first, last = local_date(assigned_at, tz), local_date(done.at, tz)
        team = (person.team_on(first),) if person.team_on(first) else ()
        other = pick_assignee(rng, org, team, first, last)
        if other is not None and other is not person:
            at = assigned_at + (done.at - assigned_at) / 2
            item.events.append(_Event(at, "unassigned", reporter, {"assignee": item.assignee}))
            item.events.append(
                _Event(at + timedelta(seconds=1), "assigned", reporter, {"assignee": github_user(other)})
            )
            item.assignee = github_user(other)

    worker = item.assignee or reporter
    reopened = False
    for step in plan.steps:
        if step.state == DONE:
            reason = "completed" if step.outcome == COMPLETED else "not_planned"
            item.events.append(_Event(step.at, "closed", worker, {"state_reason": reason}))
            item.state, item.state_reason, item.closed_at = "closed", reason, step.at
        elif step.state == IN_PROGRESS and item.state == "closed":
            item.events.append(_Event(step.at, "reopened", reporter, {"state_reason": "reopened"}))
            item.state, item.state_reason, item.closed_at = "open", "reopened", None
            reopened = True
    if item.state == "open" and not reopened:
        item.state_reason = None
    item.labels = labels


def _pull_requests(rng: random.Random, repo: Repo, count: int, org: Org, window: Window) -> list[GitHubItem]:
    tz = zone(TEAM_BY_ID[repo.team_id].time_zone)
    pulls = []
    for _ in range(count):
        created = window.start + timedelta(seconds=rng.uniform(0, window.days * 86400))
        created = working_time(created, tz, rng)
        if created >= window.end:
            continue
        day = local_date(created, tz)
        authors = [p for p in org.members(repo.team_id, day) if p.works_items]
        bot = not authors or rng.random() < 0.12
        author = DEPENDABOT if bot else github_user(rng.choice(authors))
        topic = rng.choice(PULL_TOPICS)
        title = "Bump requests from 2.31.0 to 2.32.3" if bot else f"Refactor {topic}"
        pr = GitHubItem(repo, created, title, author, is_pull=True)
        if bot:
            pr.events.append(
                _Event(created + timedelta(seconds=3), "labeled", author, {"label": "dependencies"})
            )
            pr.labels = ["dependencies"]
        elif rng.random() < 0.6:
            pr.events.append(
                _Event(
                    created + timedelta(minutes=rng.randint(1, 10)), "assigned", author, {"assignee": author}
                )
            )
            pr.assignee = author
        closing = working_time(created + timedelta(days=lognormal(rng, 1.2, 0.8)), tz, rng)
        roll = rng.random()
        if roll < 0.88 and closing < window.end:
            merger = github_user(rng.choice(authors)) if authors else author
            pr.events.append(_Event(closing, "merged", merger, {"commit_id": f"{rng.getrandbits(160):040x}"}))
            pr.events.append(_Event(closing, "closed", merger, {}))
            pr.state, pr.closed_at, pr.merged_at = "closed", closing, closing
        elif roll < 0.96 and closing < window.end:
            pr.events.append(_Event(closing, "closed", author, {}))
            pr.state, pr.closed_at = "closed", closing
        pulls.append(pr)
    return pulls


def build_items(rng: random.Random, org: Org, window: Window, scale: float) -> dict[str, list[GitHubItem]]:
    by_repo: dict[str, list[GitHubItem]] = {}
    milestone_ids = 9_100_000
    for repo in REPOS:
        tz = zone(TEAM_BY_ID[repo.team_id].time_zone)
        count = max(3, round(repo.issues * scale))
        spec = ContainerSpec(
            container=repo.full_name,
            owner=repo.team_id,
            worker_teams=(repo.team_id,),
            tz=tz,
            count=count,
            profile=GITHUB_PROFILE,
            cycle_factor=cycle_factor_for(repo.team_id, window),
            due_share=0.0,
            day_edge_cases=0,
        )
        milestones = _milestones(repo, window, milestone_ids)
        milestone_ids += 1000
        items = []
        for plan in plan_items(rng, spec, window, org):
            item = GitHubItem(repo, plan.created, plan.title, github_user(plan.reporter), False)
            _issue_events(rng, item, plan, org, window)
            if rng.random() < (0.2 if plan.is_action else 0.4):
                soon = local_date(plan.created, tz) + timedelta(days=10)
                item.milestone = next((m for m in milestones if m.due >= soon), None)
            items.append(item)
        items += _pull_requests(rng, repo, round(count * PULL_REQUEST_SHARE), org, window)
        items.sort(key=lambda i: i.created)
        for number, item in enumerate(items, start=1):
            item.number = number
            item.events.sort(key=lambda e: e.at)
            last = max([item.created, *(e.at for e in item.events)])
            item.comments = rng.choice((0, 0, 0, 1, 1, 2, 3, 5))
            if item.comments and rng.random() < 0.5:
                later = last + timedelta(minutes=rng.randint(3, 2000))
                last = later if later < window.end else last
            item.updated = last
        by_repo[repo.full_name] = items

    # Ids grow with time across GitHub, for issues and events alike.
    everything = sorted(
        (i for items in by_repo.values() for i in items),
        key=lambda i: (i.created, i.repo.full_name, i.number),
    )
    for n, item in enumerate(everything):
        item.item_id = 1_900_000_000 + n * 37
        prefix = "PR_kwDOH" if item.is_pull else "I_kwDOH"
        item.node_id = prefix + base64.b64encode(f"{item.item_id}".encode()).decode()[:14]
    events = sorted(
        ((e.at, i.repo.full_name, i.number, k, e) for i in everything for k, e in enumerate(i.events)),
        key=lambda t: t[:4],
    )
    for n, (*_, event) in enumerate(events):
        event.event_id = 11_000_000_000 + n * 13
    return by_repo


def _label(repo: str, name: str) -> dict[str, Any]:
    label_id = 5_000_000_000 + sum(ord(c) * 31**k for k, c in enumerate(name)) % 10**8
    return {
        "id": label_id,
        "node_id": "LA_kwDOH" + base64.b64encode(name.encode()).decode(),
        "url": f"{BASE}/repos/{repo}/labels/{name}",
        "name": name,
        "color": LABEL_COLOURS[name],
        "default": name in ("bug", "enhancement"),
        "description": None,
    }


def _urls(item: GitHubItem) -> tuple[str, str]:
    repo = item.repo.full_name
    kind = "pull" if item.is_pull else "issues"
    return f"{BASE}/repos/{repo}/issues/{item.number}", (f"https://github.com/{repo}/{kind}/{item.number}")


def _pull_request_key(item: GitHubItem) -> dict[str, Any]:
    repo = item.repo.full_name
    return {
        "url": f"{BASE}/repos/{repo}/pulls/{item.number}",
        "html_url": f"https://github.com/{repo}/pull/{item.number}",
        "diff_url": f"https://github.com/{repo}/pull/{item.number}.diff",
        "patch_url": f"https://github.com/{repo}/pull/{item.number}.patch",
        "merged_at": iso_z(item.merged_at) if item.merged_at else None,
    }


def issue_payload(item: GitHubItem, window: Window) -> dict[str, Any]:
    repo = item.repo.full_name
    url, html_url = _urls(item)
    out: dict[str, Any] = {
        "url": url,
        "repository_url": f"{BASE}/repos/{repo}",
        "html_url": html_url,
        "id": item.item_id,
        "node_id": item.node_id,
        "number": item.number,
        "title": item.title,
        "user": item.author,
        "labels": [_label(repo, n) for n in item.labels],
        "state": item.state,
        "locked": False,
        "assignee": item.assignee,
        "assignees": [item.assignee] if item.assignee else [],
        "milestone": item.milestone.payload(repo, window) if item.milestone else None,
        "comments": item.comments,
        "created_at": iso_z(item.created),
        "updated_at": iso_z(item.updated or item.created),
        "closed_at": iso_z(item.closed_at) if item.closed_at else None,
        "author_association": "NONE" if item.author["type"] == "Bot" else "MEMBER",
        "state_reason": None if item.is_pull else item.state_reason,
    }
    if item.is_pull:
        out["draft"] = False
        out["pull_request"] = _pull_request_key(item)
    return out


_EVENT_NODE_PREFIX = {
    "assigned": "AE",
    "unassigned": "UAE",
    "labeled": "LE",
    "unlabeled": "UNLE",
    "closed": "CE",
    "reopened": "REE",
    "merged": "ME",
}


def event_payload(item: GitHubItem, event: _Event) -> dict[str, Any]:
    repo = item.repo.full_name
    url, html_url = _urls(item)
    node = base64.b64encode(f"{event.event_id}".encode()).decode()
    out: dict[str, Any] = {
        "id": event.event_id,
        "node_id": f"{_EVENT_NODE_PREFIX[event.kind]}_lADOH{node}",
        "url": f"{BASE}/repos/{repo}/issues/events/{event.event_id}",
        "actor": event.actor,
        "event": event.kind,
        "commit_id": event.extra.get("commit_id"),
        "commit_url": (
            f"{BASE}/repos/{repo}/commits/{event.extra['commit_id']}" if "commit_id" in event.extra else None
        ),
        "created_at": iso_z(event.at),
    }
    if "assignee" in event.extra:
        out["assignee"] = event.extra["assignee"]
        out["assigner"] = event.actor
    if "label" in event.extra:
        out["label"] = {"name": event.extra["label"], "color": LABEL_COLOURS[event.extra["label"]]}
    if "state_reason" in event.extra:
        out["state_reason"] = event.extra["state_reason"]
    out["performed_via_github_app"] = None
    summary: dict[str, Any] = {
        "id": item.item_id,
        "node_id": item.node_id,
        "url": url,
        "html_url": html_url,
        "number": item.number,
        "title": item.title,
        "state": item.state,
    }
    if item.is_pull:
        summary["pull_request"] = _pull_request_key(item)
    out["issue"] = summary
    return out


def _link_header(path: str, query: str, page: int, last: int) -> str | None:
    if last <= 1:
        return None

    def link(n: int, rel: str) -> str:
        return f'<{BASE}{path}?page={n}&per_page={PAGE_SIZE}{query}>; rel="{rel}"'

    links = []
    if page > 1:
        links.append(link(page - 1, "prev"))
    if page < last:
        links += [link(page + 1, "next"), link(last, "last")]
    if page > 1:
        links.append(link(1, "first"))
    return ", ".join(links)


def _record_pages(
    recorder: Recorder,
    path: str,
    query: str,
    rows: list[dict[str, Any]],
    page_stem: str,
    rate: dict[str, int],
    reset: int,
) -> None:
    chunks = [rows[i : i + PAGE_SIZE] for i in range(0, len(rows), PAGE_SIZE)] or [[]]
    for n, chunk in enumerate(chunks, start=1):
        rate["used"] += 1
        headers = {
            "content-type": "application/json; charset=utf-8",
            "x-github-api-version-selected": "2022-11-28",
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": str(max(100, 5000 - rate["used"])),
            "x-ratelimit-reset": str(reset),
            "x-ratelimit-used": str(rate["used"]),
            "x-ratelimit-resource": "core",
        }
        link = _link_header(path, query, n, len(chunks))
        if link:
            headers["link"] = link
        recorder.add(
            "GET",
            path,
            chunk,
            page_file=f"{page_stem}-{n:04d}.json",
            params={"page": str(n)} if n > 1 else {},
            headers=headers,
        )


def record(recorder: Recorder, by_repo: dict[str, list[GitHubItem]], window: Window) -> GitHubResult:
    rate = {"used": 0}
    reset = int((window.end + timedelta(hours=1)).timestamp())
    issues = pulls = events = 0
    for repo, items in by_repo.items():
        stem = repo.replace("/", "__")
        ordered = sorted(items, key=lambda i: (i.updated, i.number))
        _record_pages(
            recorder,
            f"/repos/{repo}/issues",
            "&state=all",
            [issue_payload(i, window) for i in ordered],
            f"{stem}/issues",
            rate,
            reset,
        )
        newest_first = sorted(((e, i) for i in items for e in i.events), key=lambda t: -t[0].event_id)
        _record_pages(
            recorder,
            f"/repos/{repo}/issues/events",
            "",
            [event_payload(i, e) for e, i in newest_first],
            f"{stem}/events",
            rate,
            reset,
        )
        issues += sum(1 for i in items if not i.is_pull)
        pulls += sum(1 for i in items if i.is_pull)
        events += len(newest_first)
    return GitHubResult(issues, pulls, events, recorder.finish())
