"""Bulk survey exports: a weekly pulse as Google Forms CSV downloads, one file a week.

Same shape as the demo's Google Forms waves (`ingestion/demo/surveys.py`):
one header row, `Timestamp` first as `3/14/2026 9:41:02` in the form
owner's zone, the respondent's email, the team, Likert items and the 0–10
recommend question. A few people submit twice (the last answer counts).
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from pathlib import Path

from benchmarks.gen_org import BulkOrg
from ingestion.demo.files import csv_text, write_text
from ingestion.demo.timekeeping import zone

HEADER = (
    "Timestamp",
    "Email address",
    "Which team are you on?",
    "My workload is sustainable.",
    "I have the tools I need to do my job well.",
    "How likely are you to recommend working on your team to a friend?",
)
FORMS_ZONE = "Europe/Paris"


def write_surveys(org: BulkOrg, responses: int, surveys_dir: Path, seed: int) -> dict[str, int]:
    rng = random.Random(f"{seed}/bulk-surveys")
    window = org.window
    first_monday = window.monday_after(0)
    weeks = []
    monday = first_monday
    while monday + timedelta(days=7) <= window.run_date:
        weeks.append(monday)
        monday += timedelta(days=7)
    per_wave = max(1, responses // max(1, len(weeks)))
    tz = zone(FORMS_ZONE)
    written = 0
    for n, monday in enumerate(weeks):
        count = per_wave if n < len(weeks) - 1 else max(1, responses - per_wave * (len(weeks) - 1))
        present = [
            (p, m)
            for p in org.people
            for m in p.memberships
            if m.valid_from <= monday and (m.valid_to is None or monday + timedelta(days=7) < m.valid_to)
        ]
        rows = []
        for _ in range(count):
            person, membership = rng.choice(present)
            local = datetime.combine(monday + timedelta(days=rng.randint(0, 4)), time(), tz)
            local += timedelta(seconds=rng.randint(8 * 3600, 19 * 3600))
            stamp = (
                f"{local.month}/{local.day}/{local.year} {local.hour}:{local.minute:02d}:{local.second:02d}"
            )
            team = org.team_names[membership.team] if rng.random() > 0.02 else ""

            def likert() -> str:
                return "" if rng.random() < 0.03 else str(rng.randint(1, 5))

            rows.append((stamp, person.email, team, likert(), likert(), str(rng.randint(0, 10))))
        rows.sort(key=lambda r: datetime.strptime(r[0], "%m/%d/%Y %H:%M:%S"))
        year, week, _ = monday.isocalendar()
        write_text(surveys_dir / f"pulse-{year}-W{week:02d}.csv", csv_text([HEADER, *rows], quote_all=True))
        written += len(rows)
    return {"survey_responses": written, "survey_waves": len(weeks)}
