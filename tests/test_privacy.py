"""Anonymity by design, checked on a whole pipeline run of the demo.

The demo's respondents are its employees, whose work emails rightly sit in
the roster seed, the usage logs and the trackers' payloads. So the run also
carries canaries: respondents whose email, name, IP address and SurveyMonkey
id appear in the survey exports and nowhere else, one of them quarantined,
plus a name written in a free-text comment. After the run:

* no canary and not the salt appears anywhere: any column of any table or
  view of the warehouse, the published file and its Parquet files, the run's
  logs (captured records, the CLI's log file, the terminal);
* no respondent of the demo (email, first or last name, IP address,
  SurveyMonkey respondent id) appears in anything derived from the surveys,
  in quarantine, in the published marts or in the logs;
* the published marts hold no email at all.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from ingestion.config import Secret
from ingestion.pseudonyms import respondent_key
from orchestration.cli import main

SALT = "privacy-canary-salt-3f9d2b7e"
CANARY_EMAILS = [
    "Zebulon.Quarrington@survey-canary.test",
    "bartholomew.canary@survey-canary.test",
    "wilhelmina.canary@survey-canary.test",
]
CANARY_WORDS = [
    "Zebulon",
    "Quarrington",
    "Ottoline",
    "Vexcombe",
    "Wilhelmina",
    "Quarrington-Vexley",
    "Bartholomew",
]
CANARY_IP = "192.0.2.201"
CANARY_RESPONDENT_ID = "119999999999"
IDENTITY_COLUMNS = (
    "Email address",
    "Email Address",
    "First Name",
    "Last Name",
    "IP Address",
    "Respondent ID",
)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def _read(path: Path) -> tuple[list[list[str]], str]:
    text = path.read_text(encoding="utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""))), text


def _append(path: Path, row: list[str], quote_all: bool) -> None:
    out = io.StringIO()
    csv.writer(
        out, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL, lineterminator="\r\n"
    ).writerow(row)
    with path.open("a", encoding="utf-8", newline="") as fh:
        fh.write(out.getvalue())


def _plant_canaries(surveys: Path) -> dict[str, str]:
    """Canary rows in the newest Google Forms and SurveyMonkey exports; returns
    where each landed (file name) for the checks that they did."""
    gforms = sorted(surveys.glob("pulse-gforms-*.csv"))[-1]
    rows, _ = _read(gforms)
    header, first = rows[0], rows[1]
    at = {name: i for i, name in enumerate(header)}

    def gforms_row(email: str, recommend: str, comment: str) -> list[str]:
        row = list(first)
        row[at["Email address"]] = email
        row[at["Which team are you on?"]] = "Payments"
        row[at["How likely are you to recommend working on your team to a friend?"]] = recommend
        row[at["Anything else you'd like to share?"]] = comment
        return row

    _append(gforms, gforms_row(CANARY_EMAILS[0], "9", "Ottoline Vexcombe made this quarter great."), True)
    # out of the 0–10 scale: quarantined, with the comment naming someone
    _append(gforms, gforms_row(CANARY_EMAILS[1], "14", "Ask Ottoline Vexcombe, she knows."), True)

    monkey = sorted(surveys.glob("pulse-surveymonkey-*.csv"))[-1]
    rows, _ = _read(monkey)
    header, first = rows[0], rows[2]
    row = list(first)
    for column, value in (
        ("Respondent ID", CANARY_RESPONDENT_ID),
        ("IP Address", CANARY_IP),
        ("Email Address", CANARY_EMAILS[2]),
        ("First Name", "Wilhelmina"),
        ("Last Name", "Quarrington-Vexley"),
        ("Which team are you on?", "Payments"),
    ):
        row[header.index(column)] = value
    _append(monkey, row, False)
    return {"gforms": gforms.name, "monkey": monkey.name}


def _respondent_identities(surveys: Path) -> list[str]:
    """Every identity the demo's survey exports carry (canaries included)."""
    found: set[str] = set()
    for path in sorted(surveys.glob("*.csv")):
        rows, _ = _read(path)
        header = rows[0]
        for row in rows[1:]:
            for column in IDENTITY_COLUMNS:
                if column in header and header.index(column) < len(row) and row[header.index(column)].strip():
                    found.add(row[header.index(column)].strip())
    return sorted(found)


def _texts(path: Path) -> dict[str, str]:
    """The text of every table and view of a DuckDB file, by relation."""
    with duckdb.connect(str(path), read_only=True) as con:
        relations = con.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_catalog = current_database()"
        ).fetchall()
        return {
            f"{schema}.{table}": "\n".join(
                "\t".join(map(str, row))
                for row in con.execute(f'select * from "{schema}"."{table}"').fetchall()
            )
            for schema, table in relations
        }


def _parquet_texts(folder: Path) -> dict[str, str]:
    with duckdb.connect() as con:
        return {
            p.name: "\n".join(
                "\t".join(map(str, row))
                for row in con.execute("select * from read_parquet(?)", [str(p)]).fetchall()
            )
            for p in sorted(folder.glob("*.parquet"))
        }


def _found(needles: list[str], haystacks: dict[str, str]) -> list[tuple[str, str]]:
    """(where, what) for each needle in each text; names match as whole words."""
    hits = []
    for where, text in haystacks.items():
        lowered = text.lower()
        for needle in needles:
            if "@" in needle or needle.isdigit() or "." in needle:
                hit = needle.lower() in lowered
            else:
                hit = re.search(rf"(?<![\w-]){re.escape(needle)}(?![\w-])", text) is not None
            if hit:
                hits.append((where, needle))
    return hits


@pytest.fixture
def canary_run(pipeline_env, tmp_path, monkeypatch, caplog, capsys):
    demo = tmp_path / "demo"
    shutil.copytree(pipeline_env["demo"], demo)
    planted = _plant_canaries(demo / "landing" / "surveys")
    monkeypatch.setenv("PRODUCTOPS_DEMO_DIR", str(demo))
    monkeypatch.setenv("PRODUCTOPS_SALT", SALT)
    caplog.set_level(logging.DEBUG)
    code = main(["run"])
    out, err = capsys.readouterr()
    assert code == 0, err[-3000:]
    log_file = pipeline_env["warehouse"].parent / "logs" / "last_run.log"
    logs = {
        "captured log records": caplog.text,
        "terminal": out + err,
        str(log_file): log_file.read_text(encoding="utf-8", errors="replace"),
    }
    return {**pipeline_env, "surveys": demo / "landing" / "surveys", "logs": logs, "planted": planted}


@pytest.mark.e2e
def test_no_respondent_identity_or_salt_leaves_ingestion(canary_run):
    warehouse = _texts(canary_run["warehouse"])
    published = {**_texts(canary_run["published"]), **_parquet_texts(canary_run["published"].parent)}
    logs = canary_run["logs"]
    # 23 marts, each in the published DuckDB file and as a Parquet file.
    assert len(warehouse) > 50 and len(published) == 46 and len(logs["captured log records"]) > 1000
    # Beside them, the publishing run's record that the dashboard reads: readers see it too.
    record = canary_run["published"].parent / "last_run.json"
    published[str(record)] = record.read_text(encoding="utf-8")

    # The canaries did go through: two responses landed (hashed), one quarantined.
    with duckdb.connect(str(canary_run["warehouse"]), read_only=True) as con:
        keys = {
            respondent_key(Secret(SALT), survey, email)
            for survey, email in (
                ("pulse_gforms", CANARY_EMAILS[0]),
                ("pulse_surveymonkey", CANARY_EMAILS[2]),
            )
        }
        marts = con.execute(
            "select count(*) from marts.fct_survey_responses where respondent_key in (?, ?)", sorted(keys)
        ).fetchall()
        assert marts == [(2,)]
        quarantined = con.execute(
            "select locator, reason from raw.rejected_records where source = 'surveys'"
        ).fetchall()
        assert len(quarantined) == 1
        assert quarantined[0][0].startswith(f"surveys/{canary_run['planted']['gforms']}:")
        assert quarantined[0][1].endswith("is outside the scale 0–10: 14")

    # Canaries and the salt: nowhere at all.
    secrets = [*CANARY_EMAILS, *CANARY_WORDS, CANARY_IP, CANARY_RESPONDENT_ID, SALT]
    assert _found(secrets, warehouse) == []
    assert _found(secrets, published) == []
    assert _found(secrets, logs) == []

    # The demo's respondents: not in what the surveys feed, quarantine, the
    # published marts or the logs.
    respondents = _respondent_identities(canary_run["surveys"])
    assert len(respondents) > 150
    # (the scan does see them where they belong: the roster seed holds the
    # employees' work emails, by design)
    assert len(_found(respondents, {"roster": warehouse["seeds.roster"]})) > 30
    survey_lineage = {
        name: text
        for name, text in warehouse.items()
        if "survey" in name or "satisfaction" in name or name == "raw.rejected_records"
    }
    assert len(survey_lineage) >= 8
    assert _found(respondents, survey_lineage) == []
    assert _found(respondents, published) == []
    assert _found(respondents, logs) == []
    assert [(name, m) for name, text in published.items() for m in EMAIL.findall(text)] == []
