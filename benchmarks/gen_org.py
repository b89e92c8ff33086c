"""The bulk organisation: teams, people and their roster periods, Jira projects, seeds.

Same shapes as the demo organisation (`ingestion/demo/`), at thousands of
people: about ten people a team, one Jira project per team, a few shared
projects that no team owns (attributed by assignee), joiners, leavers and
movers whose roster periods the marts must honour.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from ingestion.demo.catalog import FIRST_NAMES, LAST_NAMES, TOOLS
from ingestion.demo.files import csv_text, write_text
from ingestion.demo.jira_reference import CANONICAL, STATUSES
from ingestion.demo.seeds import KPI_TARGETS, SEED_COLUMNS
from ingestion.demo.timekeeping import Window

TEAM_SIZE = 10
TIME_ZONES = (
    "Europe/Paris",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "UTC",
    "Europe/Berlin",
    "Australia/Sydney",
    "America/Sao_Paulo",
    "Asia/Tokyo",
)
# Jira workflows of ingestion/demo/jira_reference.py; review_pay is a
# team-managed project whose "In Review" (10100) needs a mapping override.
WORKFLOW_MIX = (("review", 0.4), ("backlog", 0.25), ("simple", 0.2), ("review_pay", 0.15))
JOINER_SHARE, LEAVER_SHARE, MOVER_SHARE = 0.05, 0.05, 0.03
HIDDEN_EMAIL_SHARE = 0.05  # Jira privacy settings hide the assignee's email
ROLES = (("engineer", 0.6), ("senior engineer", 0.25), ("product manager", 0.08), ("designer", 0.07))


@dataclass(frozen=True)
class Membership:
    team: int
    valid_from: date
    valid_to: date | None  # exclusive


@dataclass
class Person:
    index: int
    email: str
    display_name: str
    role: str
    account_id: str
    hides_email: bool
    memberships: list[Membership] = field(default_factory=list)


@dataclass(frozen=True)
class Project:
    key: str
    project_id: str
    name: str
    owner: int | None  # team index; None: shared, attributed by assignee
    workers: tuple[int, ...]  # teams whose people work its items
    time_zone: str
    workflow: str


@dataclass
class BulkOrg:
    window: Window
    team_ids: list[str]
    team_names: list[str]
    team_zones: list[str]
    people: list[Person]
    projects: list[Project]
    members: dict[int, list[int]]  # team index -> person indexes (any period)


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum() or c == "-")


def _weighted(rng: random.Random, choices: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([c for c, _ in choices], [w for _, w in choices])[0]


def build_org(people_count: int, window: Window, seed: int) -> BulkOrg:
    rng = random.Random(f"{seed}/bulk-org")
    teams = max(8, round(people_count / TEAM_SIZE))
    team_ids = [f"team-{n:04d}" for n in range(1, teams + 1)]
    team_names = [f"Team {n:04d}" for n in range(1, teams + 1)]
    team_zones = [TIME_ZONES[n % len(TIME_ZONES)] for n in range(teams)]
    days = window.days
    people: list[Person] = []
    members: dict[int, list[int]] = {t: [] for t in range(teams)}
    for i in range(people_count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        team = i % teams
        roll = rng.random()
        hired = window.start_date - timedelta(days=rng.randint(30, 2500))
        person = Person(
            index=i,
            email=f"{_ascii(first)}.{_ascii(last)}.{i}@example.com",
            display_name=f"{first} {last}",
            role=_weighted(rng, ROLES),
            account_id=f"{rng.getrandbits(96):024x}",
            hides_email=rng.random() < HIDDEN_EMAIL_SHARE,
        )
        if roll < JOINER_SHARE:
            person.memberships.append(Membership(team, window.day(rng.randint(30, days - 30)), None))
        elif roll < JOINER_SHARE + LEAVER_SHARE:
            person.memberships.append(Membership(team, hired, window.day(rng.randint(30, days - 20))))
        elif roll < JOINER_SHARE + LEAVER_SHARE + MOVER_SHARE:
            moved = window.day(rng.randint(60, days - 60))
            other = (team + rng.randint(1, teams - 1)) % teams
            person.memberships += [Membership(team, hired, moved), Membership(other, moved, None)]
            members[other].append(i)
        else:
            person.memberships.append(Membership(team, hired, None))
        members[team].append(i)
        people.append(person)

    projects: list[Project] = []
    for t in range(teams):
        workflow = _weighted(rng, WORKFLOW_MIX)
        projects.append(
            Project(
                key=f"T{t + 1:04d}",
                project_id=str(20000 + t),
                name=team_names[t],
                owner=t,
                workers=(t,),
                time_zone=team_zones[t],
                workflow=workflow,
            )
        )
    for n in range(max(1, teams // 40)):
        workers = tuple(sorted(rng.sample(range(teams), 3)))
        projects.append(
            Project(
                key="OPS" if n == 0 else f"OPS{n + 1}",
                project_id=str(30000 + n),
                name=f"Operations {n + 1}",
                owner=None,
                workers=workers,
                time_zone=team_zones[workers[0]],
                workflow="ops",
            )
        )
    return BulkOrg(window, team_ids, team_names, team_zones, people, projects, members)


def rollout(window: Window, rollout_day: int) -> date:
    return window.monday_after(rollout_day)


def write_seeds(org: BulkOrg, seeds_dir: Path) -> dict[str, int]:
    window = org.window
    roster = sorted(
        (
            p.email,
            org.team_ids[m.team],
            p.role,
            m.valid_from.isoformat(),
            m.valid_to.isoformat() if m.valid_to else "",
            f"gh-{p.index}",
            p.account_id,
        )
        for p in org.people
        for m in p.memberships
    )
    mapping = [
        ("jira", p.key, "*", "10100", "in_progress") for p in org.projects if p.workflow == "review_pay"
    ]
    mapping += [
        ("jira", "*", "*", s.status_id, CANONICAL[s.category]) for s in STATUSES if s.status_id != "10100"
    ]
    rows = {
        "teams.csv": list(zip(org.team_ids, org.team_names, org.team_zones, strict=True)),
        "roster.csv": roster,
        "ownership.csv": [
            ("jira", p.key, org.team_ids[p.owner]) for p in org.projects if p.owner is not None
        ],
        "tools.csv": [
            (t.tool_id, t.name, f"{t.okta_app}|{t.log_name}", rollout(window, t.rollout_day).isoformat())
            for t in TOOLS
        ],
        "status_mapping.csv": mapping,
        "improvement_labels.csv": [("*", "retro-action", ""), ("*", "improvement", "")],
        "kpi_targets.csv": [t for t in KPI_TARGETS if t[0] == "*"],
    }
    for name, data in rows.items():
        write_text(seeds_dir / name, csv_text([SEED_COLUMNS[name], *data]))
    return {name: len(data) for name, data in rows.items()}


CONFIG = """# Configuration of the bulk benchmark organisation (benchmarks/gen_org.py).
[pipeline]
rejected_share_threshold = 0.01
anonymity_threshold = 5

[usage]
timestamp = "timestamp"
user_email = "user_email"
tool = "tool"
event = "event"
event_id = "event_id"

# Weekly pulse, Google Forms exports, one file a week.
[[surveys]]
id = "weekly_pulse"
format = "google_forms"
files = "pulse-*.csv"
time_zone = "Europe/Paris"
wave_from = "filename"
wave_pattern = '(\\d{4}-W\\d{2})'
respondent_question = "Email address"
team_question = "Which team are you on?"
recommend_question = "How likely are you to recommend working on your team to a friend?"
recommend_scale = [0, 10]

[[surveys.likert]]
id = "workload"
question = "My workload is sustainable."
scale = [1, 5]

[[surveys.likert]]
id = "tooling"
question = "I have the tools I need to do my job well."
scale = [1, 5]
"""


def write_config(path: Path) -> None:
    write_text(path, CONFIG)
