"""Who uses which tool when: the sessions behind usage logs and Okta sign-ins.

After each rollout people adopt the tool one by one (an exponential delay),
so weekly adoption rises in a curve; some never adopt, a few drop it again.
Payments adopts the story tool within days; LaunchDarkly stays a niche.
Sessions happen only while the person is on the roster, with a day of margin
at both ends so no time zone pushes one outside a valid period.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ingestion.demo.catalog import (
    STORY_TEAM,
    STORY_TEAM_ADOPTION_DELAY_DAYS,
    STORY_TOOL,
    TEAM_BY_ID,
    TOOLS,
    UNKNOWN_EMAILS,
    Tool,
)
from ingestion.demo.org import WORKER_ROLES, Org, Person
from ingestion.demo.timekeeping import Window, at_local, zone

WEEKEND_ACTIVITY = 0.03
CHURN_SHARE = 0.1
UNKNOWN_SESSIONS = 12  # per unknown email


@dataclass(frozen=True)
class Session:
    """One person's use of one tool on one day, starting at `start`."""

    start: datetime
    email: str
    person: Person | None  # None: not on the roster
    tool: Tool
    events: int
    tz: ZoneInfo


def adoption_chance(tool: Tool, team_id: str, role: str) -> float:
    chance = dict(tool.adoption_by_team).get(team_id, tool.adoption)
    if tool.tool_id == "figma" and role in ("designer", "product manager"):
        return 0.95
    if tool.tool_id in ("copilot", "datadog") and role not in WORKER_ROLES:
        return chance * 0.3
    return chance


def rollout_date(tool: Tool, window: Window) -> date:
    return window.monday_after(tool.rollout_day)


def _person_sessions(rng: random.Random, person: Person, tool: Tool, window: Window) -> list[Session]:
    first = max(rollout_date(tool, window), person.employed_from + timedelta(days=1))
    last = window.run_date - timedelta(days=1)
    if person.employed_to is not None:
        last = min(last, person.employed_to - timedelta(days=2))
    if first > last:
        return []
    team = person.team_on(first) or person.memberships[0].team_id
    if rng.random() >= adoption_chance(tool, team, person.role):
        return []
    quick = tool.tool_id == STORY_TOOL and team == STORY_TEAM
    delay = rng.expovariate(1 / (STORY_TEAM_ADOPTION_DELAY_DAYS if quick else tool.delay_days))
    day = first + timedelta(days=int(delay))
    intensity = rng.uniform(0.35, 0.85)
    stop = last
    if rng.random() < CHURN_SHARE:  # tried it, then dropped it
        stop = min(last, day + timedelta(days=rng.randint(14, 90)))
    sessions = []
    while day <= stop:
        if rng.random() < (intensity if day.weekday() < 5 else WEEKEND_ACTIVITY):
            team_now = person.team_on(day)
            if team_now is not None:
                tz = zone(TEAM_BY_ID[team_now].time_zone)
                start = at_local(day, rng.uniform(8.5, 17.5), tz)
                events = 1 + int(rng.expovariate(1 / tool.events_per_session))
                if start < window.end:
                    sessions.append(Session(start, person.email, person, tool, events, tz))
        day += timedelta(days=1)
    return sessions


def simulate_sessions(rng: random.Random, org: Org, window: Window) -> list[Session]:
    sessions = []
    for person in org.people:
        for tool in TOOLS:
            sessions += _person_sessions(rng, person, tool, window)
    for email in UNKNOWN_EMAILS:
        for _ in range(UNKNOWN_SESSIONS):
            tool = rng.choice(TOOLS[:3])
            day = window.day(rng.randint(tool.rollout_day + 7, window.days - 2))
            start = at_local(day, rng.uniform(9, 17), zone("UTC"))
            sessions.append(Session(start, email, None, tool, rng.randint(1, 4), zone("UTC")))
    sessions.sort(key=lambda s: (s.start, s.email, s.tool.tool_id))
    return sessions
