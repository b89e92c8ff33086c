"""Okta System Log recordings: `GET /api/v1/logs` pages.

Mostly `user.authentication.sso` successes whose `AppInstance` target (not
always the first target) names the app by its Okta label, plus noise the
pipeline must ignore: Okta sign-ins (`user.session.start`), failed SSO,
sign-ins to apps outside the tool catalog. Pages hold up to 1000 events in
ascending time and link to the next with an opaque `after` cursor; the page
after the last one is empty yet still has a next link (Okta's polling quirk).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ingestion.demo.adoption import Session
from ingestion.demo.catalog import OTHER_OKTA_APPS, TEAM_BY_ID, TOOLS
from ingestion.demo.org import Org, Person, base62
from ingestion.demo.recording import Recorder
from ingestion.demo.timekeeping import Window, at_local, epoch_ms, iso_z_ms, zone

BASE = "{base}"
PAGE_SIZE = 1000
SSO_SHARE = 0.25  # weeks of use that begin with a fresh SSO (the others reuse one)
FAILED_SSO_SHARE = 0.01
OKTA_SIGN_IN_SHARE = 0.012  # per person and workday
OTHER_APP_SHARE = 0.012  # per person and workday
USER_AGENTS = (
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36",
        "Mac OS X",
        "CHROME",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
        "Windows 10",
        "FIREFOX",
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36",
        "Linux",
        "CHROME",
    ),
)


@dataclass(frozen=True)
class _Actor:
    okta_id: str
    login: str
    name: str
    city: str
    country: str
    ip: str
    agent: tuple[str, str, str]


@dataclass
class OktaResult:
    events: int
    sso_events: int
    pages: int
    exchanges: int


class _EventFactory:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.apps = {
            name: "0oa" + base62(rng, 17)
            for name in sorted({t.okta_app for t in TOOLS} | set(OTHER_OKTA_APPS))
        }
        self.actors: dict[str, _Actor] = {}

    def actor(self, email: str, person: Person | None, team_id: str | None) -> _Actor:
        if email not in self.actors:
            rng = self.rng
            team = TEAM_BY_ID.get(team_id or "")
            self.actors[email] = _Actor(
                okta_id=person.okta_id if person else "00u" + base62(rng, 17),
                login=person.okta_login if person else email,
                name=person.display_name if person else email.split("@")[0],
                city=team.city if team else "Amsterdam",
                country=team.country if team else "Netherlands",
                ip=f"198.51.100.{rng.randint(2, 254)}",
                agent=rng.choice(USER_AGENTS),
            )
        return self.actors[email]

    def event(
        self, at: datetime, event_type: str, actor: _Actor, *, ok: bool = True, app: str | None = None
    ) -> dict[str, Any]:
        rng = self.rng
        sso = event_type == "user.authentication.sso"
        if sso:
            message, legacy = "User single sign on to app", "app.auth.sso"
            reason = None if ok else "VERIFICATION_ERROR"
        else:
            message = "User login to Okta"
            legacy = "core.user_auth.login_success" if ok else "core.user_auth.login_failed"
            reason = None if ok else "INVALID_CREDENTIALS"
        targets = None
        if app is not None:
            instance = {
                "id": self.apps[app],
                "type": "AppInstance",
                "alternateId": app,
                "displayName": app,
                "detailEntry": {"signOnModeType": "SAML_2_0"},
            }
            app_user = {
                "id": "0ua" + base62(rng, 17),
                "type": "AppUser",
                "alternateId": actor.login,
                "displayName": actor.name,
                "detailEntry": None,
            }
            targets = [instance, app_user] if rng.random() < 0.7 else [app_user, instance]
        h = f"{rng.getrandbits(128):032x}"
        return {
            "actor": {
                "id": actor.okta_id,
                "type": "User",
                "alternateId": actor.login,
                "displayName": actor.name,
                "detailEntry": None,
            },
            "client": {
                "userAgent": {
                    "rawUserAgent": actor.agent[0],
                    "os": actor.agent[1],
                    "browser": actor.agent[2],
                },
                "zone": "null",
                "device": "Computer",
                "id": None,
                "ipAddress": actor.ip,
                "geographicalContext": {
                    "city": actor.city,
                    "state": None,
                    "country": actor.country,
                    "postalCode": None,
                },
            },
            "device": None,
            "authenticationContext": {"authenticationStep": 0, "externalSessionId": "102" + base62(rng, 22)},
            "displayMessage": message,
            "eventType": event_type,
            "outcome": {"result": "SUCCESS" if ok else "FAILURE", "reason": reason},
            "published": iso_z_ms(at),
            "severity": "INFO" if ok else "WARN",
            "legacyEventType": legacy,
            "transaction": {"type": "WEB", "id": base62(rng, 27), "detail": {}},
            "uuid": f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}",
            "version": "0",
            "target": targets,
        }


def build_events(
    rng: random.Random, sessions: list[Session], org: Org, window: Window
) -> list[tuple[datetime, dict[str, Any]]]:
    factory = _EventFactory(rng)
    out: list[tuple[datetime, dict[str, Any]]] = []
    signed_in: set[tuple[str, str, int, int]] = set()
    for s in sessions:
        # An SSO session lasts days: only some weeks' first use signs in afresh.
        week = (s.email, s.tool.tool_id, *s.start.isocalendar()[:2])
        if week in signed_in:
            continue
        signed_in.add(week)
        roll = rng.random()
        if roll >= SSO_SHARE + FAILED_SSO_SHARE:
            continue
        team = s.person.team_on(s.start.date()) if s.person else None
        actor = factory.actor(s.email, s.person, team)
        at = s.start - timedelta(seconds=rng.randint(5, 90), milliseconds=rng.randint(0, 999))
        if roll >= SSO_SHARE:  # a failed attempt, then a successful retry
            failed = at - timedelta(seconds=rng.randint(20, 120))
            out.append(
                (
                    failed,
                    factory.event(failed, "user.authentication.sso", actor, ok=False, app=s.tool.okta_app),
                )
            )
        out.append((at, factory.event(at, "user.authentication.sso", actor, app=s.tool.okta_app)))

    for person in org.people:
        day = max(person.employed_from + timedelta(days=1), window.start_date)
        last = window.run_date - timedelta(days=1)
        if person.employed_to is not None:
            last = min(last, person.employed_to - timedelta(days=2))
        while day <= last:
            if day.weekday() < 5:
                team = person.team_on(day)
                tz = zone(TEAM_BY_ID[team].time_zone) if team else zone("UTC")
                actor = factory.actor(person.email, person, team)
                if rng.random() < OKTA_SIGN_IN_SHARE:
                    at = at_local(day, rng.uniform(8.0, 9.5), tz)
                    ok = rng.random() > 0.05
                    out.append((at, factory.event(at, "user.session.start", actor, ok=ok)))
                if rng.random() < OTHER_APP_SHARE:
                    at = at_local(day, rng.uniform(9.0, 17.0), tz)
                    app = rng.choice(OTHER_OKTA_APPS)
                    out.append((at, factory.event(at, "user.authentication.sso", actor, app=app)))
            day += timedelta(days=1)
    out = [e for e in out if window.start <= e[0] < window.end]
    out.sort(key=lambda e: (e[0], e[1]["uuid"]))
    return out


def _after_token(moment: datetime, used: set[str]) -> str:
    token = f"{epoch_ms(moment)}_1"
    n = 1
    while token in used:  # two pages ending on the same millisecond
        n += 1
        token = f"{epoch_ms(moment)}_{n}"
    used.add(token)
    return token


def record(recorder: Recorder, events: list[tuple[datetime, dict[str, Any]]], window: Window) -> OktaResult:
    path = "/api/v1/logs"
    reset = str(int((window.end + timedelta(minutes=1)).timestamp()))
    chunks = [events[i : i + PAGE_SIZE] for i in range(0, len(events), PAGE_SIZE)]
    used: set[str] = set()
    tokens: list[str | None] = [None]  # tokens[k]: the `after` that asks for page k + 1
    tokens += [_after_token(chunk[-1][0], used) for chunk in chunks]

    def url(token: str | None) -> str:
        return f"{BASE}{path}?limit={PAGE_SIZE}" + (f"&after={token}" if token else "")

    def headers(token: str | None, next_token: str | None, remaining: int) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "Link": f'<{url(token)}>; rel="self", <{url(next_token)}>; rel="next"',
            "x-rate-limit-limit": "120",
            "x-rate-limit-remaining": str(max(10, remaining)),
            "x-rate-limit-reset": reset,
        }

    for n, chunk in enumerate(chunks):
        token = tokens[n]
        recorder.add(
            "GET",
            path,
            [e for _, e in chunk],
            page_file=f"logs-{n + 1:04d}.json",
            params={"after": token} if token else {},
            headers=headers(token, tokens[n + 1], 119 - n),
        )
    # Polling past the end: an empty page that links to itself.
    last = tokens[-1]
    recorder.add(
        "GET",
        path,
        [],
        page_file=f"logs-{len(chunks) + 1:04d}.json",
        params={"after": last} if last else {},
        headers=headers(last, last, 119 - len(chunks)),
    )
    sso = sum(1 for _, e in events if e["eventType"] == "user.authentication.sso")
    return OktaResult(len(events), sso, len(chunks) + 1, recorder.finish())
