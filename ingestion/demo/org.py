"""People, their team memberships over time (the roster) and their identities.

The roster changes during the year: joiners start mid-year, leavers get a
`valid_to`, and exactly one person moves team (two roster rows). Every
activity generator asks the org who was on which team on which day, so no
one acts outside their valid periods.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta

from ingestion.demo.catalog import (
    FIRST_NAMES,
    LAST_NAMES,
    MOVER_FROM,
    MOVER_TO,
    SMALL_TEAM,
    TEAMS,
    Team,
)
from ingestion.demo.timekeeping import Window

JOINERS_AT_SCALE_1 = 13
LEAVERS_AT_SCALE_1 = 11
MIN_TEAM_SIZE = 3
WORKER_ROLES = ("engineer", "senior engineer", "data analyst")
LEAD_ROLES = ("engineering manager", "product manager")


@dataclass(frozen=True)
class Membership:
    team_id: str
    valid_from: date
    valid_to: date | None  # exclusive; None while still on the team


@dataclass
class Person:
    first_name: str
    last_name: str
    email: str
    role: str
    github_login: str
    github_id: int
    jira_account_id: str
    okta_id: str
    okta_login: str  # as typed when the Okta account was made (case varies)
    memberships: list[Membership] = field(default_factory=list)

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def employed_from(self) -> date:
        return self.memberships[0].valid_from

    @property
    def employed_to(self) -> date | None:
        return self.memberships[-1].valid_to

    def team_on(self, day: date) -> str | None:
        for m in self.memberships:
            if m.valid_from <= day and (m.valid_to is None or day < m.valid_to):
                return m.team_id
        return None

    def on_team_throughout(self, team_ids: tuple[str, ...], first: date, last: date) -> bool:
        """On one of the teams, in a single membership, from first to last (inclusive)."""
        return any(
            m.team_id in team_ids and m.valid_from <= first and (m.valid_to is None or last < m.valid_to)
            for m in self.memberships
        )

    def is_active_at_end(self, window: Window) -> bool:
        return self.employed_to is None or self.employed_to > window.run_date

    @property
    def works_items(self) -> bool:
        return self.role in WORKER_ROLES


@dataclass
class Org:
    teams: tuple[Team, ...]
    people: list[Person]
    mover: Person
    move_date: date

    def members(self, team_id: str, day: date) -> list[Person]:
        return [p for p in self.people if p.team_on(day) == team_id]

    def team_leads(self, team_id: str, day: date) -> list[Person]:
        return [p for p in self.members(team_id, day) if p.role in LEAD_ROLES]

    def by_email(self) -> dict[str, Person]:
        return {p.email: p for p in self.people}


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum() or c == "-")


class _IdentityFactory:
    """Unique names, emails and account ids for new people."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.emails: set[str] = set()
        self.logins: set[str] = set()

    def person(self, role: str) -> Person:
        rng = self.rng
        while True:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            email = f"{_ascii(first)}.{_ascii(last)}@example.com"
            if email not in self.emails:
                break
        self.emails.add(email)
        login_style = rng.randrange(4)
        base = [
            f"{_ascii(first)}{_ascii(last)[:1]}",
            f"{_ascii(first)}-{_ascii(last)}",
            f"{_ascii(first)[:1]}{_ascii(last)}-acme",
            f"{_ascii(last)}{_ascii(first)[:2]}",
        ][login_style]
        login = base
        while login in self.logins:
            login = f"{base}{rng.randint(2, 99)}"
        self.logins.add(login)
        # Atlassian account ids come in two shapes: legacy 24-hex and "712020:<uuid>".
        if rng.random() < 0.2:
            h = f"{rng.getrandbits(128):032x}"
            account = f"712020:{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        else:
            account = f"{rng.getrandbits(96):024x}"
        okta_login = email
        if rng.random() < 0.08:  # Okta keeps the case an admin typed
            okta_login = f"{first}.{last}@example.com".replace(" ", "")
            okta_login = _ascii_keep_case(okta_login)
        return Person(
            first_name=first,
            last_name=last,
            email=email,
            role=role,
            github_login=login,
            github_id=rng.randint(1_000_000, 180_000_000),
            jira_account_id=account,
            okta_id="00u" + base62(rng, 17),
            okta_login=okta_login,
        )


def _ascii_keep_case(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().replace("'", "")


def base62(rng: random.Random, length: int) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    return "".join(rng.choice(alphabet) for _ in range(length))


def _roles_for(team: Team, size: int, rng: random.Random) -> list[str]:
    roles = ["engineering manager", "product manager"][: max(1, size - 2)]
    if team.product and size >= 6:
        roles.append("designer")
    if team.team_id == "data":
        roles += ["data analyst"] * min(2, max(0, size - len(roles) - 1))
    while len(roles) < size:
        roles.append("senior engineer" if rng.random() < 0.3 else "engineer")
    return roles


def build_org(rng: random.Random, window: Window, scale: float) -> Org:
    ids = _IdentityFactory(rng)
    people: list[Person] = []
    initial: dict[str, list[Person]] = {}
    for team in TEAMS:
        size = max(MIN_TEAM_SIZE, round(team.base_size * scale))
        initial[team.team_id] = []
        for role in _roles_for(team, size, rng):
            person = ids.person(role)
            hired = window.start_date - timedelta(days=rng.randint(30, 2500))
            person.memberships.append(Membership(team.team_id, hired, None))
            people.append(person)
            initial[team.team_id].append(person)

    # The mover: an engineer who changes team mid-year (two roster rows).
    mover = next(p for p in initial[MOVER_FROM] if p.works_items)
    move_date = window.monday_after(window.days // 2 - 40)  # mid-year, before the rollout
    first = mover.memberships[0]
    mover.memberships[:] = [
        Membership(MOVER_FROM, first.valid_from, move_date),
        Membership(MOVER_TO, move_date, None),
    ]

    # Joiners and leavers rotate over the teams, the small one excepted (its
    # headcount has to stay put for the anonymity story).
    churn_teams = [t.team_id for t in TEAMS if t.team_id != SMALL_TEAM]
    for i in range(max(1, round(JOINERS_AT_SCALE_1 * scale))):
        team_id = churn_teams[i % len(churn_teams)]
        person = ids.person("engineer")
        joined = window.monday_after(rng.randint(75, window.days - 60))
        person.memberships.append(Membership(team_id, joined, None))
        people.append(person)

    leaver_pool = [p for t in churn_teams for p in initial[t] if p.works_items and p is not mover]
    leaver_count = min(len(leaver_pool), max(1, round(LEAVERS_AT_SCALE_1 * scale)))
    leavers = rng.sample(leaver_pool, leaver_count)
    for person in leavers:
        left = window.day(rng.randint(45, window.days - 30))
        only = person.memberships[0]
        person.memberships[0] = Membership(only.team_id, only.valid_from, left)

    return Org(teams=TEAMS, people=people, mover=mover, move_date=move_date)
