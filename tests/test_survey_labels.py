"""Survey answers as people export them: text labels, no-answers, duplicates, numbers.

Fixtures in tests/fixtures/survey_labels/: a SurveyMonkey export whose matrix
and rating answers are labels (SurveyMonkey's default), that collects no email
(the Respondent ID is the identity), with a response exported twice, an
unknown label, an answer off its range and a blank row; and a Google Forms
export in French. Expected values are read off the files by hand.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from ingestion.config import Secret, SurveyMapping
from ingestion.loader import RawLoader
from ingestion.pseudonyms import respondent_key
from ingestion.sources.surveys import land_surveys

FIXTURES = Path(__file__).parent / "fixtures" / "survey_labels"
SALT = Secret("salt-for-label-tests")
MONKEY = "surveys/monkey-labels-2026-Q2.csv"
HOURS = "How many hours a week do you spend in meetings?"
ENGAGEMENT = {
    "id": "engagement",
    "format": "surveymonkey",
    "files": "monkey-*.csv",
    "time_zone": "America/New_York",
    "wave_from": "quarter",
    # no respondent_question: SurveyMonkey's Respondent ID is the identity
    "team_question": "Which team are you on?",
    "recommend_question": "How likely is it that you would recommend this team as a place to work?",
    "likert": [
        {"id": "workload", "question": "My workload is sustainable.", "scale": [1, 5]},
        {"id": "tools", "question": "I have the tools I need.", "scale": [1, 5]},
        {"id": "satisfied", "question": "How satisfied are you with our tools?", "scale": [1, 5]},
    ],
    "numeric": [{"id": "meeting_hours", "question": HOURS, "range": [0, 80]}],
}
POULS = {
    "id": "pouls",
    "format": "google_forms",
    "files": "pouls-*.csv",
    "time_zone": "Europe/Paris",
    "respondent_question": "Adresse e-mail",
    "team_question": "Dans quelle équipe êtes-vous ?",
    "recommend_question": "Recommanderiez-vous votre équipe à un ami ?",
    "likert": [
        {"id": "workload", "question": "Ma charge de travail est soutenable.", "scale": [1, 5]},
        {"id": "tools", "question": "Êtes-vous satisfait de vos outils ?", "scale": [1, 5]},
    ],
}


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as c:
        yield c


@pytest.fixture
def surveys(tmp_path) -> Path:
    shutil.copytree(FIXTURES, tmp_path / "landing" / "surveys")
    return tmp_path / "landing" / "surveys"


def land(con, surveys: Path, *mappings: dict, run_id: str = "run-1"):
    parsed = tuple(SurveyMapping.from_dict(m) for m in mappings)
    return land_surveys(con, RawLoader(con, run_id), surveys, parsed, SALT)


def answers(con, survey_id: str) -> dict[int, dict[str, float | None]]:
    rows = con.execute(
        """
        select _line_number, map(list(item_id order by item_id), list(answer_value order by item_id))
        from raw.survey_responses join raw.survey_answers using (response_key)
        where survey_id = ? group by all order by 1
        """,
        [survey_id],
    ).fetchall()
    return {line: dict(items) for line, items in rows}


def test_surveymonkey_labels_score_on_the_built_in_scales(con, surveys):
    stats = land(con, surveys, ENGAGEMENT)
    assert answers(con, "engagement") == {
        3: {"workload": 4.0, "tools": 5.0, "satisfied": 5.0, "meeting_hours": 6.0, "recommend": 9.0},
        # N/A is no answer
        4: {
            "workload": 1.0,
            "tools": None,
            "satisfied": 2.0,
            "meeting_hours": 12.5,
            "recommend": 4.0,
        },
        # "Don't know" is no answer
        5: {
            "workload": None,
            "tools": 3.0,
            "satisfied": 4.0,
            "meeting_hours": 3.0,
            "recommend": 8.0,
        },
    }
    # line 6 repeats line 4 (dropped, counted, never quarantined); line 9 is blank;
    # line 7 has a label no scale knows, line 8 200 hours of meetings
    assert stats.files["surveys:engagement"].__dict__ == {
        "landed": 3, "duplicates": 1, "skipped": 1, "rejected": 2, "problem": None,
    }  # fmt: skip
    rejects = dict(con.execute("select locator, reason from raw.rejected_records").fetchall())
    assert rejects == {
        f"{MONKEY}:7": (
            f'{MONKEY}:7: answer to "My workload is sustainable." is not a number or a known label'
        ),
        f"{MONKEY}:8": f'{MONKEY}:8: answer to "{HOURS}" is outside the scale 0–80: 200',
    }
    assert con.execute(
        "select rows_landed, rows_duplicate, rows_skipped, rows_rejected from raw.loaded_files"
    ).fetchall() == [(3, 1, 1, 2)]


def test_the_respondent_id_is_the_identity_when_no_email_is_collected(con, surveys):
    land(con, surveys, ENGAGEMENT)
    keys = {row[0] for row in con.execute("select respondent_key from raw.survey_responses").fetchall()}
    assert keys == {respondent_key(SALT, "engagement", f"11500000000{n}") for n in (1, 2, 3)}


def test_a_numeric_question_is_its_own_kind(con, surveys):
    land(con, surveys, ENGAGEMENT)
    kinds = con.execute(
        "select item_id, item_kind, scale_min, scale_max from raw.survey_answers group by all order by 1"
    ).fetchall()
    assert kinds == [
        ("meeting_hours", "numeric", 0.0, 80.0),
        ("recommend", "recommend", 0.0, 10.0),
        ("satisfied", "likert", 1.0, 5.0),
        ("tools", "likert", 1.0, 5.0),
        ("workload", "likert", 1.0, 5.0),
    ]


def test_a_survey_names_its_own_labels(con, surveys):
    mapping = {**ENGAGEMENT, "labels": {"Mostly agree": 4}}
    stats = land(con, surveys, mapping)
    assert stats.files["surveys:engagement"].landed == 4
    assert answers(con, "engagement")[7]["workload"] == 4.0
    # An item's own labels win over the survey's and the built-in ones.
    likert = [{**ENGAGEMENT["likert"][0], "labels": {"Agree": 5}}, *ENGAGEMENT["likert"][1:]]
    land(con, surveys, {**mapping, "likert": likert}, run_id="run-2")
    assert answers(con, "engagement")[3]["workload"] == 5.0
    assert answers(con, "engagement")[3]["tools"] == 5.0  # "Strongly agree", built in


def test_a_google_forms_export_in_french(con, surveys):
    stats = land(con, surveys, POULS)
    assert answers(con, "pouls") == {
        2: {"workload": 5.0, "tools": 5.0, "recommend": 9.0},  # Tout à fait d’accord, Très satisfait
        3: {"workload": 2.0, "tools": 2.0, "recommend": 5.0},  # Plutôt pas d'accord, Plutôt insatisfait
        4: {"workload": None, "tools": 3.0, "recommend": 7.0},  # Je ne sais pas: no answer
    }
    assert stats.rows_rejected == 0
    assert con.execute("select min(submitted_at) from raw.survey_responses").fetchall() == [
        (datetime(2026, 6, 2, 7, 15, tzinfo=UTC),)  # day first, Paris summer time
    ]
