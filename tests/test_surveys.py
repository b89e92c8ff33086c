"""Survey exports (Google Forms, its French Excel re-save, SurveyMonkey) → raw.survey_*.

Expected values are computed by hand from tests/fixtures/surveys/.
"""

from __future__ import annotations

import logging
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from ingestion.config import Secret, SurveyMapping
from ingestion.loader import RawLoader
from ingestion.pages import SourceError
from ingestion.pseudonyms import respondent_key, stable_hash
from ingestion.sources.surveys import land_surveys
from ingestion.sources.surveys.normalise import (
    normalise_question,
    parse_local_datetime,
    parse_number,
    sniff_delimiter,
)
from orchestration.gates import ledger

FIXTURES = Path(__file__).parent / "fixtures" / "surveys"
SALT = Secret("pepper-for-tests-9f2c")
Q1 = "surveys/pulse-2026-Q1.csv"
Q2_FR = "surveys/pulse-2026-Q2-fr.csv"
SM = "surveys/engagement-2026-03.csv"

PULSE = SurveyMapping.from_dict(
    {
        "id": "pulse",
        "format": "google_forms",
        "files": "pulse-*.csv",
        "time_zone": "Europe/Paris",
        "wave_from": "filename",
        "respondent_question": "Email address",
        "team_question": "Which team are you on?",
        "recommend_question": "How likely are you to recommend working on your team to a friend?",
        "likert": [
            {"id": "workload", "question": "My workload is sustainable.", "scale": [1, 5]},
            {"id": "pride", "question": "I'm proud of the work my team does.", "scale": [1, 5]},
        ],
    }
)
ENGAGEMENT = SurveyMapping.from_dict(
    {
        "id": "engagement",
        "format": "surveymonkey",
        "files": "engagement-*.csv",
        "time_zone": "America/New_York",
        "wave_from": "quarter",
        "respondent_question": "Email Address",
        "team_question": "Which team are you on?",
        "recommend_question": ("How likely is it that you would recommend this team as a place to work?"),
        "likert": [
            {"id": "tools", "question": "How satisfied are you with our tools?", "scale": [1, 5]},
            # a statement of a matrix question, on the second header row
            {"id": "workload", "question": "My workload is sustainable.", "scale": [1, 5]},
        ],
    }
)

# Everything that identifies a respondent in the fixtures.
IDENTITIES = [
    *(f"{n}@example.com" for n in ("ann", "bob", "carol", "dave", "erin", "frank", "gina")),
    *(f"{n}@example.com" for n in ("hugo", "ines")),
    *(f"{n}@exemple.fr" for n in ("jeanne", "luc", "marie", "paul")),
    *(f"{n}@example.org" for n in ("alice", "bob", "chen", "dina", "eve")),
    "Jeanne Dupont", "Dupont", "Luc Martin", "Marie Curie", "Paul Durand", "Durand",
    "Alice", "Smith", "Jones", "Chen", "Wu", "Dina", "Khan", "Adams",
    "203.0.113.", "114000000",
    SALT.value,
]  # fmt: skip


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def landing(tmp_path) -> Path:
    shutil.copytree(FIXTURES, tmp_path / "landing" / "surveys")
    return tmp_path / "landing"


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as c:
        yield c


def load(con, landing: Path, mappings=(PULSE, ENGAGEMENT), run_id: str = "run-1"):
    return land_surveys(con, RawLoader(con, run_id), landing / "surveys", mappings, SALT)


def responses(con, survey_id: str) -> list[tuple]:
    """(wave, submitted_at, team, line, {item: value}) per response, by file and line."""
    rows = con.execute(
        """
        select survey_wave, submitted_at, team_answer, _source_file, _line_number,
               map(list(item_id order by item_id), list(answer_value order by item_id))
        from raw.survey_responses join raw.survey_answers using (response_key)
        where survey_id = ?
        group by all
        order by _source_file, _line_number
        """,
        [survey_id],
    ).fetchall()
    return [(w, at, team, f"{f}:{line}", dict(items)) for w, at, team, f, line, items in rows]


def rejects(con) -> dict[str, str]:
    rows = con.execute(
        "select locator, reason from raw.rejected_records where source = 'surveys' and stream = 'responses'"
    ).fetchall()
    return dict(rows)


def test_google_forms_export_in_utc_across_the_dst_change(con, landing):
    load(con, landing, mappings=(PULSE,))
    got = [r for r in responses(con, "pulse") if r[3].startswith(Q1)]
    assert got == [
        # Paris is UTC+1 until 29 March 2026, UTC+2 after
        ("2026-Q1", utc(2026, 3, 28, 22, 30), "Payments", f"{Q1}:3",
         {"pride": 4.0, "recommend": 7.0, "workload": 3.0}),
        # "5 - Strongly agree": the leading number
        ("2026-Q1", utc(2026, 3, 30, 8, 15), "Growth", f"{Q1}:4",
         {"pride": 5.0, "recommend": 10.0, "workload": 5.0}),
        # Ann answered on line 2 (14 March) and again on line 5 (16 March): the latest wins
        ("2026-Q1", utc(2026, 3, 16, 7, 0), "Payments", f"{Q1}:5",
         {"pride": 3.0, "recommend": 6.0, "workload": 2.0}),
        # blank answers are null, never 0
        ("2026-Q1", utc(2026, 3, 21, 11, 0), "Platform", f"{Q1}:7",
         {"pride": 4.0, "recommend": None, "workload": None}),
        # "Agree" is a label of the built-in agreement scale: 4 on 1–5
        ("2026-Q1", utc(2026, 3, 23, 8, 0), "Platform", f"{Q1}:9",
         {"pride": 4.0, "recommend": 8.0, "workload": 4.0}),
        # a quoted answer over two lines: the record starts on line 10 …
        ("2026-Q1", utc(2026, 3, 25, 16, 5, 9), "Growth", f"{Q1}:10",
         {"pride": 4.0, "recommend": 9.0, "workload": 4.0}),
        # … and the next one on line 12
        ("2026-Q1", utc(2026, 3, 26, 7, 30), "Growth", f"{Q1}:12",
         {"pride": 3.0, "recommend": 5.0, "workload": 3.0}),
    ]  # fmt: skip


def test_french_excel_resave(con, landing):
    """BOM, ';', CRLF, decimal commas, seconds dropped, a multi-line answer."""
    load(con, landing, mappings=(PULSE,))
    got = [r for r in responses(con, "pulse") if r[3].startswith(Q2_FR)]
    assert got == [
        ("2026-Q2", utc(2026, 4, 14, 7, 41), "Paiements", f"{Q2_FR}:2",
         {"pride": 5.0, "recommend": 9.0, "workload": 4.5}),
        ("2026-Q2", utc(2026, 5, 2, 6, 0), "Croissance", f"{Q2_FR}:5",
         {"pride": 3.0, "recommend": None, "workload": None}),
        # Luc (lines 3–4 and 7, once upper-cased): the later submission, "7,0" read as 7
        ("2026-Q2", utc(2026, 6, 20, 21, 59), "Croissance", f"{Q2_FR}:7",
         {"pride": 4.0, "recommend": 7.0, "workload": 4.0}),
    ]  # fmt: skip


def test_surveymonkey_export(con, landing):
    load(con, landing, mappings=(ENGAGEMENT,))
    assert responses(con, "engagement") == [
        # New York is UTC-5 until 8 March 2026, UTC-4 after; N/A is no answer
        ("2026-Q1", utc(2026, 3, 9, 13, 0), "Growth", f"{SM}:4",
         {"recommend": 7.0, "tools": 3.0, "workload": 3.0}),
        # the team typed into "Other (please specify)"
        ("2026-Q1", utc(2026, 3, 10, 17, 5), "Data Science", f"{SM}:5",
         {"recommend": 10.0, "tools": 5.0, "workload": 4.0}),
        # Alice's second Q1 response (line 3 was on 7 March, UTC-5) wins
        ("2026-Q1", utc(2026, 3, 20, 21, 30), "Payments", f"{SM}:6",
         {"recommend": 3.0, "tools": 2.0, "workload": 2.0}),
        # 12:15 PM is a quarter past noon
        ("2026-Q1", utc(2026, 3, 25, 16, 15), "Growth", f"{SM}:7",
         {"recommend": None, "tools": 4.0, "workload": 4.0}),
        # Alice again in April: another wave, another response
        ("2026-Q2", utc(2026, 4, 2, 13, 10), "Payments", f"{SM}:9",
         {"recommend": 10.0, "tools": 5.0, "workload": 5.0}),
        # no email: an anonymous respondent
        ("2026-Q1", utc(2026, 3, 27, 19, 4), "Growth", f"{SM}:10",
         {"recommend": 8.0, "tools": 3.0, "workload": 4.0}),
    ]  # fmt: skip


def test_keys_are_salted_hashes(con, landing):
    load(con, landing, mappings=(ENGAGEMENT,))
    alice = respondent_key(SALT, "engagement", "alice@example.org")
    anonymous = stable_hash("anonymous", "engagement", SM, "10")
    assert con.execute(
        "select _line_number, respondent_key, response_key from raw.survey_responses"
        " where _line_number in (6, 9, 10) order by 1"
    ).fetchall() == [
        (6, alice, stable_hash("engagement", "2026-Q1", alice)),
        (9, alice, stable_hash("engagement", "2026-Q2", alice)),
        (10, anonymous, stable_hash("engagement", "2026-Q1", anonymous)),
    ]
    assert respondent_key(SALT, "engagement", " Alice@Example.ORG") == alice
    assert respondent_key(Secret("other"), "engagement", "alice@example.org") != alice
    assert con.execute(
        "select distinct item_id, item_kind, scale_min, scale_max from raw.survey_answers order by 1"
    ).fetchall() == [
        ("recommend", "recommend", 0.0, 10.0),
        ("tools", "likert", 1.0, 5.0),
        ("workload", "likert", 1.0, 5.0),
    ]


def test_out_of_range_and_non_numeric_rows_are_quarantined(con, landing):
    stats = load(con, landing)
    assert (stats.pages, stats.rows_landed, stats.rows_rejected) == (2, 16, 4)
    recommend = "How likely are you to recommend working on your team to a friend?"
    assert rejects(con) == {
        f"{Q1}:6": f'{Q1}:6: answer to "My workload is sustainable." is outside the scale 1–5: 7',
        f"{Q1}:8": f'{Q1}:8: answer to "{recommend}" is outside the scale 0–10: 11',
        f"{Q2_FR}:6": (f'{Q2_FR}:6: answer to "My workload is sustainable." is outside the scale 1–5: 6'),
        f"{SM}:8": (
            f'{SM}:8: answer to "How likely is it that you would recommend this team as a'
            ' place to work?" is outside the scale 0–10: 12'
        ),
    }
    payload = con.execute(
        "select payload from raw.rejected_records where locator = ?", [f"{SM}:8"]
    ).fetchall()[0][0]
    assert '"How likely is it that you would recommend this team as a place to work? / ' in payload
    assert '"Which team are you on? / Response": "Platform"' in payload
    for identity_field in ("Respondent ID", "Email Address", "First Name", "IP Address", "eve"):
        assert identity_field not in payload


def test_rerun_is_idempotent(con, landing):
    load(con, landing)
    counts = "select (select count(*) from raw.{}) "
    tables = ("survey_responses", "survey_answers", "rejected_records")
    before = [con.execute(counts.format(t)).fetchall() for t in tables]
    keys = con.execute("select list(response_key order by response_key) from raw.survey_responses").fetchall()
    # Nothing changed: both surveys are skipped.
    stats = load(con, landing, run_id="run-2")
    assert (stats.pages, stats.rows_landed, stats.rows_rejected) == (0, 0, 0)
    assert [con.execute(counts.format(t)).fetchall() for t in tables] == before
    # A new salt is a change: both are read again, under new keys, still once each.
    new_salt = Secret("another-salt-for-the-same-exports")
    stats = land_surveys(con, RawLoader(con, "run-3"), landing / "surveys", (PULSE, ENGAGEMENT), new_salt)
    assert (stats.pages, stats.rows_landed, stats.rows_rejected) == (2, 16, 4)
    assert [con.execute(counts.format(t)).fetchall() for t in tables] == before
    assert before == [[(16,)], [(48,)], [(4,)]]
    assert (
        con.execute("select list(response_key order by response_key) from raw.survey_responses").fetchall()
        != keys
    )


def test_missing_question_names_file_and_question(con, landing):
    broken = SurveyMapping.from_dict(
        {**PULSE.__dict__, "likert": [{"id": "focus", "question": "I can focus.", "scale": [1, 5]}]}
    )
    with pytest.raises(SourceError) as error:
        load(con, landing, mappings=(broken, ENGAGEMENT))
    assert 'question "I can focus." is not in the header' in str(error.value)
    assert "surveys/pulse-2026-Q1.csv" in str(error.value)
    # the other survey still landed
    assert con.execute("select distinct survey_id from raw.survey_responses").fetchall() == [("engagement",)]


def test_no_identity_or_salt_anywhere_in_the_warehouse(con, landing, caplog):
    caplog.set_level(logging.DEBUG)
    load(con, landing)
    columns = con.execute(
        """
        select table_schema, table_name, column_name from information_schema.columns
        where data_type in ('VARCHAR', 'JSON')
        """
    ).fetchall()
    assert len(columns) > 20
    found = []
    for schema, table, column in columns:
        values = con.execute(f'select "{column}" from "{schema}"."{table}"').fetchall()
        text = "\n".join(str(v) for (v,) in values).lower()
        found += [(table, column, i) for i in IDENTITIES if i.lower() in text]
    assert found == []
    logs = caplog.text.lower()
    assert [i for i in IDENTITIES if i.lower() in logs] == []


# -- reading rules ----------------------------------------------------------------


def test_question_normalisation():
    assert normalise_question("I\u2019m\u00a0proud  of\tmy TEAM ") == "i'm proud of my team"
    assert normalise_question("\ufb01le") == "file"  # NFKC


@pytest.mark.parametrize(
    ("text", "value"),
    [("4", 4.0), ("4,5", 4.5), ("5 - Strongly agree", 5.0), ("0 – Not likely", 0.0),
     ("", None), ("  ", None), ("N/A", None), ("10", 10.0)],
)  # fmt: skip
def test_parse_number(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["Agree", "5stars", "four"])
def test_parse_number_rejects_text(text):
    with pytest.raises(ValueError):
        parse_number(text)


def test_sniff_delimiter_ignores_commas_inside_the_first_cell():
    assert sniff_delimiter("Horodateur;Overall, fine;x") == ";"
    assert sniff_delimiter('"Time, local";a;b') == ";"
    assert sniff_delimiter("Timestamp,Q;1") == ","


def test_parse_local_datetime_forms():
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")
    assert parse_local_datetime("3/14/2026 9:41:02", paris, False) == utc(2026, 3, 14, 8, 41, 2)
    assert parse_local_datetime("14/03/2026 09:41", paris, True) == utc(2026, 3, 14, 8, 41)
    assert parse_local_datetime("03/14/2026 12:05:00 AM", paris, False) == utc(2026, 3, 13, 23, 5)
    assert parse_local_datetime("2026/03/14 9:41:02 AM GMT+1", paris, False) == utc(2026, 3, 14, 8, 41, 2)


def test_day_first_dates_under_an_english_header_and_anonymous_rows(con, tmp_path):
    """A UK form says "Timestamp" but writes 14/03/2026; a blank email is anonymous."""
    surveys = tmp_path / "landing" / "surveys"
    surveys.mkdir(parents=True)
    (surveys / "pulse-2026-Q1-uk.csv").write_text(
        "Timestamp,Email address,Which team are you on?,My workload is sustainable.,"
        "I'm proud of the work my team does.,"
        "How likely are you to recommend working on your team to a friend?\n"
        "02/03/2026 10:00:00,,Payments,4,4,8\n"
        "14/03/2026 10:00:00,,Payments,5,5,9\n",
        encoding="utf-8",
    )
    load(con, tmp_path / "landing", mappings=(PULSE,))
    assert con.execute(
        "select submitted_at, respondent_key from raw.survey_responses order by 1"
    ).fetchall() == [
        (
            utc(2026, 3, 2, 9, 0),
            stable_hash("anonymous", "pulse", "surveys/pulse-2026-Q1-uk.csv", "2"),
        ),
        (
            utc(2026, 3, 14, 9, 0),
            stable_hash("anonymous", "pulse", "surveys/pulse-2026-Q1-uk.csv", "3"),
        ),
    ]


def test_a_shorter_file_drops_its_earlier_quarantine_rows(con, landing):
    load(con, landing, mappings=(PULSE,))
    assert sorted(k for k in rejects(con) if k.startswith(Q1)) == [f"{Q1}:6", f"{Q1}:8"]
    q1 = landing / Q1
    q1.write_text("".join(q1.read_text(encoding="utf-8").splitlines(keepends=True)[:5]), encoding="utf-8")
    stats = load(con, landing, mappings=(PULSE,), run_id="run-2")
    assert stats.rows_rejected == 1  # the French file's line 6 only
    assert list(rejects(con)) == [f"{Q2_FR}:6"]


def test_surveys_a_failed_gate_rewound_are_read_again(con, landing):
    load(con, landing)
    ledger.ensure_ledger(con)
    ledger.record_failure(con, "surveys", "run-1", {}, ["surveys__responses_expectations"])
    # The fingerprints of run-1 no longer match: the next run reads both surveys again.
    stats = load(con, landing, run_id="run-2")
    assert (stats.pages, stats.rows_landed, stats.rows_rejected) == (2, 16, 4)
