"""Work items planned for one tracker container (a Jira project or a repo).

Planning is tracker-neutral: when an item is created, how it moves, who works
it, when it is due and whether it is a retro action. Jira and GitHub then
write the plan in their own formats.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ingestion.demo.org import Org, Person
from ingestion.demo.timekeeping import (
    Window,
    at_local,
    local_date,
    to_ms,
    working_time,
)
from ingestion.demo.workflow import (
    COMPLETED,
    DONE,
    FlowProfile,
    Step,
    reopen_count,
    resolution,
    simulate,
    started_at,
)

ACTION_LABELS = ("retro-action", "retro-action", "retro-action", "improvement")
# Retro actions wait longer to be picked up, so several are still open.
ACTION_PROFILE = FlowProfile(
    wait_median=12.0,
    cycle_median=5.0,
    review_share=0.2,
    reopen_share=0.03,
    cancel_share=0.08,
    skip_share=0.05,
)
DUE_OFFSETS_DAYS = (-7, -4, -2, -1, 0, 0, 0, 1, 2, 3, 5, 8, 12)  # due minus resolution date


@dataclass(frozen=True)
class ContainerSpec:
    container: str  # PAY, acme/payments-api, ...
    owner: str | None  # owning team, None when no ownership row exists
    worker_teams: tuple[str, ...]  # teams whose people work its items
    tz: ZoneInfo
    count: int
    profile: FlowProfile
    cycle_factor: Callable[[datetime], float] = lambda _: 1.0
    action_share: float = 0.06
    due_share: float = 0.35
    day_edge_cases: int = 2  # resolutions placed right at a local midnight


@dataclass
class PlannedItem:
    container: str
    tz: ZoneInfo
    kind: str  # story | task | bug
    title: str
    created: datetime
    steps: list[Step]
    reporter: Person
    assignee: Person | None
    due: date | None
    labels: list[str] = field(default_factory=list)
    is_action: bool = False

    @property
    def last_change(self) -> datetime:
        return self.steps[-1].at if self.steps else self.created

    @property
    def started(self) -> datetime | None:
        return started_at(self.steps)

    @property
    def resolved(self) -> Step | None:
        return resolution(self.steps)


_OBJECTS = (
    "checkout flow",
    "refund API",
    "login page",
    "search ranking",
    "push notifications",
    "billing export",
    "SSO settings",
    "onboarding emails",
    "feature flags",
    "audit log",
    "rate limiter",
    "CI pipeline",
    "Terraform modules",
    "dashboard",
    "data model",
    "webhook retries",
    "password reset",
    "invoice PDF",
    "currency conversion",
    "cache layer",
)
_TEMPLATES = {
    "story": (
        "Add {o} filters",
        "Redesign {o}",
        "Support dark mode in {o}",
        "Let admins configure {o}",
        "Localise {o}",
    ),
    "task": (
        "Upgrade dependencies of {o}",
        "Document {o}",
        "Clean up {o} metrics",
        "Migrate {o} to the new cluster",
        "Add alerts for {o}",
    ),
    "bug": (
        "{o} fails on empty input",
        "Timeout in {o}",
        "Wrong totals in {o}",
        "{o} shows stale data",
        "Crash when opening {o}",
    ),
}
_ACTION_TEMPLATES = (
    "Retro: write a runbook for {o}",
    "Retro: pair on reviews of {o}",
    "Retro: add a smoke test for {o}",
    "Retro: shorten the release checklist of {o}",
)


def _title(rng: random.Random, kind: str, is_action: bool) -> str:
    template = rng.choice(_ACTION_TEMPLATES if is_action else _TEMPLATES[kind])
    return template.format(o=rng.choice(_OBJECTS))


def _created(rng: random.Random, window: Window, tz: ZoneInfo, is_action: bool) -> datetime:
    while True:
        if is_action:  # retros happen on Friday afternoons
            day = window.day(rng.randrange(window.days))
            day += timedelta(days=(4 - day.weekday()) % 7)
            moment = at_local(day, rng.uniform(14.0, 17.0), tz)
        else:
            moment = window.start + timedelta(seconds=rng.uniform(0, window.days * 86400))
            moment = working_time(to_ms(moment), tz, rng)
        if window.start <= moment < window.end:
            return moment


def pick_assignee(
    rng: random.Random,
    org: Org,
    teams: tuple[str, ...],
    first: date,
    last: date,
    prefer: Person | None = None,
) -> Person | None:
    """Someone on one of the teams for the whole span (a day of margin either side)."""
    first, last = first - timedelta(days=1), last + timedelta(days=1)
    workers = [p for p in org.people if p.works_items]
    candidates = [p for p in workers if p.on_team_throughout(teams, first, last)]
    if prefer is not None and prefer in candidates and rng.random() < 0.12:
        return prefer
    if not candidates:
        candidates = [p for p in workers if p.on_team_throughout(teams, first, first)]
    if not candidates:
        candidates = [p for p in org.people if p.on_team_throughout(teams, first, first)]
    return rng.choice(candidates) if candidates else None


def _reporter(rng: random.Random, org: Org, teams: tuple[str, ...], day: date) -> Person:
    leads = [p for t in teams for p in org.team_leads(t, day)]
    if leads and rng.random() < 0.6:
        return rng.choice(leads)
    members = [p for t in teams for p in org.members(t, day)]
    return rng.choice(members or org.people)


def _due_date(rng: random.Random, item: PlannedItem, window: Window) -> date:
    done = item.resolved
    if done is not None and done.outcome == COMPLETED:
        resolved_day = local_date(done.at, item.tz)
        return resolved_day + timedelta(days=rng.choice(DUE_OFFSETS_DAYS))
    return local_date(item.created, item.tz) + timedelta(days=rng.randint(5, 45))


def plan_items(rng: random.Random, spec: ContainerSpec, window: Window, org: Org) -> list[PlannedItem]:
    items: list[PlannedItem] = []
    for _ in range(spec.count):
        is_action = rng.random() < spec.action_share
        kind = "task" if is_action else rng.choices(("story", "task", "bug"), (45, 25, 30))[0]
        created = _created(rng, window, spec.tz, is_action)
        profile = ACTION_PROFILE if is_action else spec.profile
        steps = simulate(rng, created, profile, spec.tz, window.end, spec.cycle_factor)
        item = PlannedItem(
            container=spec.container,
            tz=spec.tz,
            kind=kind,
            title=_title(rng, kind, is_action),
            created=created,
            steps=steps,
            reporter=_reporter(rng, org, spec.worker_teams, local_date(created, spec.tz)),
            assignee=None,
            due=None,
            labels=[rng.choice(ACTION_LABELS)] if is_action else [],
            is_action=is_action,
        )
        begin = item.started or (steps[0].at if steps else None)
        if begin is not None or rng.random() < 0.15:  # a few to-do items are pre-assigned
            first = local_date(begin or created, spec.tz)
            done = item.resolved
            last = local_date(done.at, spec.tz) if done else window.run_date
            prefer = org.mover if spec.owner is None else None
            item.assignee = pick_assignee(rng, org, spec.worker_teams, first, last, prefer)
        if rng.random() < (0.6 if is_action else spec.due_share):
            item.due = _due_date(rng, item, window)
        items.append(item)
    _place_on_day_edges(rng, items, spec.day_edge_cases, window)
    items.sort(key=lambda i: i.created)
    return items


def _place_on_day_edges(rng: random.Random, items: list[PlannedItem], cases: int, window: Window) -> None:
    """Resolve a few due items minutes before or after local midnight of the due day.

    Whether they are on time depends on reading the resolution in the team's
    time zone; a UTC date gets some of them wrong, in both directions.
    """
    eligible = [
        i
        for i in items
        if i.resolved is not None
        and i.resolved.outcome == COMPLETED
        and reopen_count(i.steps) == 0
        and not i.is_action
    ]
    for n, item in enumerate(rng.sample(eligible, min(cases, len(eligible)))):
        done = item.resolved
        assert done is not None
        day = local_date(done.at, item.tz)
        if n % 2 == 0:  # on time: 23:xx on the due day
            moment = at_local(day, rng.uniform(23.55, 23.95), item.tz)
            due = day
        else:  # late: 00:xx the day after the due day
            moment = at_local(day + timedelta(days=1), rng.uniform(0.1, 0.6), item.tz)
            due = day
        previous = item.steps[-2].at if len(item.steps) > 1 else item.created
        if previous < moment < window.end:
            item.steps[-1] = Step(moment, DONE, done.outcome)
            item.due = due
