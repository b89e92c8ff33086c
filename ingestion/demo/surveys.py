"""Quarterly pulse survey exports in `landing/surveys/`.

The company switched tools during the year: the two older waves are Google
Forms CSV downloads (one header row, `Timestamp` first as `3/14/2026
9:41:02` in the form owner's zone, `Email address` collected), the two newer
ones SurveyMonkey "all responses, expanded" exports (two header rows, dates
`MM/DD/YYYY hh:mm:ss AM`, a UTF-8 BOM). Infra answers less and less: under
the anonymity threshold in the last waves. A few people submit twice (the
last answer counts) and some answers are left blank.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from ingestion.demo.catalog import SMALL_TEAM, STORY_TEAM, STORY_TOOL, TEAMS
from ingestion.demo.files import csv_text, write_text
from ingestion.demo.flow import rollout_instant
from ingestion.demo.org import Org, Person
from ingestion.demo.timekeeping import Window, at_local, zone

TEAM_QUESTION = "Which team are you on?"
RECOMMEND_QUESTION = "How likely are you to recommend working on your team to a friend?"
COMMENT_QUESTION = "Anything else you'd like to share?"
LIKERT = (
    ("workload", "My workload is sustainable."),
    ("tooling", "I have the tools I need to do my job well."),
    ("retros", "Our retrospectives lead to real improvements."),
)
FORMS_ZONE = "Europe/Paris"  # the Google Sheet owner's zone
MONKEY_ZONE = "America/New_York"  # the SurveyMonkey account's zone
SMALL_TEAM_RESPONDENTS = (6, 5, 4, 3)  # oldest to newest wave
WAVE_DAYS = 12
COMMENTS = (
    "More focus time, please.",
    "Retros are good, but actions get lost after a sprint or two.",
    'The new "definition of done" helps a lot',
    "On-call is heavy this quarter, especially weekends.",
    "Great team, slow tooling.\nCI takes 40 minutes on a good day.",
    "Less meetings, more pairing",
)


@dataclass(frozen=True)
class Wave:
    label: str  # 2026-Q1
    opens: date
    closes: date  # exclusive
    export: str  # google_forms | surveymonkey

    @property
    def file_name(self) -> str:
        tool = "gforms" if self.export == "google_forms" else "surveymonkey"
        return f"pulse-{tool}-{self.label}.csv"


@dataclass(frozen=True)
class Response:
    person: Person
    team_answer: str
    submitted: datetime
    likert: tuple[int | None, ...]
    recommend: int | None
    comment: str


def survey_waves(window: Window) -> list[Wave]:
    """The last four quarterly waves that closed before run_date, oldest first."""
    waves: list[Wave] = []
    year, quarter = window.run_date.year, (window.run_date.month - 1) // 3 + 1
    while len(waves) < 4:
        second_month = date(year, 3 * (quarter - 1) + 2, 1)
        opens = second_month + timedelta(days=(7 - second_month.weekday()) % 7)
        closes = opens + timedelta(days=WAVE_DAYS)
        if closes <= window.run_date:
            waves.append(Wave(f"{year}-Q{quarter}", opens, closes, ""))
        year, quarter = (year - 1, 4) if quarter == 1 else (year, quarter - 1)
    waves.reverse()
    exports = ("google_forms", "google_forms", "surveymonkey", "surveymonkey")
    return [Wave(w.label, w.opens, w.closes, e) for w, e in zip(waves, exports, strict=True)]


def _mood(team_id: str, wave: Wave, window: Window) -> float:
    base = {"payments": 3.3, "infra": 3.1, "growth": 3.9, "mobile": 3.6}.get(team_id, 3.6)
    if team_id == STORY_TEAM and wave.opens > rollout_instant(STORY_TOOL, window).date():
        base += 0.7  # faster delivery, happier team
    return base


def _answer(rng: random.Random, mean: float, low: int, high: int, blank: float) -> int | None:
    if rng.random() < blank:
        return None
    return max(low, min(high, round(rng.gauss(mean, 0.85 if high == 5 else 1.7))))


def _responses(
    rng: random.Random, org: Org, wave: Wave, index: int, window: Window, export_zone: str
) -> list[Response]:
    out = []
    for team in TEAMS:
        present = [p for p in org.people if p.on_team_throughout((team.team_id,), wave.opens, wave.closes)]
        if team.team_id == SMALL_TEAM:
            count = min(len(present), SMALL_TEAM_RESPONDENTS[index])
        else:
            count = round(len(present) * rng.uniform(0.6, 0.85))
        mood = _mood(team.team_id, wave, window)
        for person in rng.sample(present, count):
            day = wave.opens + timedelta(days=rng.randrange(WAVE_DAYS))
            submitted = at_local(day, rng.uniform(8.5, 18.0), zone(export_zone))
            out.append(
                Response(
                    person=person,
                    team_answer=team.name,
                    submitted=submitted,
                    likert=(
                        _answer(rng, mood - 0.2, 1, 5, 0.04),
                        _answer(rng, mood + 0.1, 1, 5, 0.04),
                        _answer(rng, mood - 0.3, 1, 5, 0.05),
                    ),
                    recommend=_answer(rng, (mood - 1.0) * 2.6, 0, 10, 0.05),
                    comment=rng.choice(COMMENTS) if rng.random() < 0.15 else "",
                )
            )

    # Someone leaves the team question blank; two people submit twice.
    def in_big_team(r: Response) -> bool:
        return r.person.team_on(wave.opens) != SMALL_TEAM

    big = [r for r in out if in_big_team(r)]
    if len(big) >= 3:
        blank = rng.choice(big)
        out[out.index(blank)] = Response(
            blank.person, "", blank.submitted, blank.likert, blank.recommend, blank.comment
        )
        for first in rng.sample([r for r in out if in_big_team(r) and r.team_answer], 2):
            earlier = first.submitted - timedelta(minutes=rng.randint(10, 180))
            likert = tuple(None if v is None else max(1, v - 1) for v in first.likert)
            out.append(Response(first.person, first.team_answer, earlier, likert, first.recommend, ""))
    out.sort(key=lambda r: (r.submitted, r.person.email))
    return out


def _cell(value: int | None) -> str:
    return "" if value is None else str(value)


def _google_forms(responses: list[Response]) -> str:
    header = [
        "Timestamp",
        "Email address",
        TEAM_QUESTION,
        *(q for _, q in LIKERT),
        RECOMMEND_QUESTION,
        COMMENT_QUESTION,
    ]
    rows: list[list[str]] = [header]
    for r in responses:
        local = r.submitted.astimezone(zone(FORMS_ZONE))
        stamp = f"{local.month}/{local.day}/{local.year} {local.hour}:{local:%M:%S}"
        rows.append(
            [stamp, r.person.email, r.team_answer, *map(_cell, r.likert), _cell(r.recommend), r.comment]
        )
    return csv_text(rows, quote_all=True, line_end="\r\n")


def _surveymonkey(rng: random.Random, responses: list[Response]) -> str:
    meta = [
        "Respondent ID",
        "Collector ID",
        "Start Date",
        "End Date",
        "IP Address",
        "Email Address",
        "First Name",
        "Last Name",
        "Custom Data 1",
    ]
    questions = [TEAM_QUESTION, *(q for _, q in LIKERT), RECOMMEND_QUESTION, COMMENT_QUESTION]
    sub_labels = ["Response"] * (len(questions) - 1) + ["Open-Ended Response"]
    rows: list[list[str]] = [meta + questions, [""] * len(meta) + sub_labels]
    collector = str(rng.randint(400_000_000, 499_999_999))
    respondent = rng.randint(114_000_000_000, 114_900_000_000)
    for r in responses:
        end = r.submitted.astimezone(zone(MONKEY_ZONE))
        start = end - timedelta(seconds=rng.randint(45, 600))
        respondent += rng.randint(1000, 90_000)
        rows.append(
            [
                str(respondent),
                collector,
                f"{start:%m/%d/%Y %I:%M:%S %p}",
                f"{end:%m/%d/%Y %I:%M:%S %p}",
                f"203.0.113.{rng.randint(2, 254)}",
                r.person.email,
                r.person.first_name,
                r.person.last_name,
                "",
                r.team_answer,
                *map(_cell, r.likert),
                _cell(r.recommend),
                r.comment,
            ]
        )
    return csv_text(rows, line_end="\r\n")


@dataclass(frozen=True)
class SurveySummary:
    waves: list[Wave]
    responses: int
    respondents_by_wave: dict[str, dict[str, int]]  # wave -> team -> distinct respondents


def write_surveys(rng: random.Random, survey_dir: Path, org: Org, window: Window) -> SurveySummary:
    waves = survey_waves(window)
    total = 0
    by_wave: dict[str, dict[str, int]] = {}
    for index, wave in enumerate(waves):
        forms = wave.export == "google_forms"
        responses = _responses(rng, org, wave, index, window, FORMS_ZONE if forms else MONKEY_ZONE)
        if forms:
            write_text(survey_dir / wave.file_name, _google_forms(responses))
        else:
            write_text(survey_dir / wave.file_name, _surveymonkey(rng, responses), bom=True)
        total += len(responses)
        teams: dict[str, set[str]] = {}
        for r in responses:
            team = r.person.team_on(wave.opens) or ""
            teams.setdefault(team, set()).add(r.person.email)
        by_wave[wave.label] = {t: len(v) for t, v in sorted(teams.items())}
    return SurveySummary(waves, total, by_wave)
