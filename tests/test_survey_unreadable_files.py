"""Survey exports that cannot be read at all: one file, one fate.

A Google Forms or SurveyMonkey export that is not UTF-8 (an Excel re-save in
Windows-1252), binary (a spreadsheet renamed .csv), truncated, without its
header row, or with a mapped question twice in its header is quarantined as a
file, with its path as locator and the reason; the survey's other exports and
the other surveys still land, and the run goes on. The broken files are
written here from the real-format exports in tests/fixtures/survey_labels/.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests import test_survey_labels as labels

# The same exports, mappings, salt and landing as the label tests.
FIXTURES, land, con = labels.FIXTURES, labels.land, labels.con  # `con`: the warehouse fixture
POULS = {**labels.POULS, "wave_from": "quarter"}  # the broken copies' names hold no wave
ENGAGEMENT = labels.ENGAGEMENT
GOOD_POULS = "surveys/pouls-2026-Q2.csv"
GOOD_MONKEY = "surveys/monkey-labels-2026-Q2.csv"


@pytest.fixture
def surveys(tmp_path) -> Path:
    """The two real-format exports, and beside each the broken copies people drop."""
    folder = tmp_path / "landing" / "surveys"
    shutil.copytree(FIXTURES, folder)
    pouls = (FIXTURES / "pouls-2026-Q2.csv").read_text(encoding="utf-8")
    header, *rows = pouls.splitlines(keepends=True)
    # Excel on Windows re-saves as Windows-1252: "é" is one byte, not UTF-8.
    (folder / "pouls-latin1.csv").write_bytes(pouls.replace("’", "'").encode("cp1252"))
    # A spreadsheet renamed .csv: a zip archive.
    (folder / "pouls-sheet.csv").write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + bytes(200))
    # The rows without the header row (copied out of the sheet).
    (folder / "pouls-no-header.csv").write_text("".join(rows), encoding="utf-8")
    # The mapped question twice in the header (a form with two questions of the same title).
    duplicated = header.replace("Êtes-vous satisfait de vos outils ?", "Ma charge de travail est soutenable.")
    (folder / "pouls-duplicate-columns.csv").write_text(duplicated + "".join(rows), encoding="utf-8")
    # A download cut off in the middle of the second data row (SurveyMonkey).
    monkey = (FIXTURES / "monkey-labels-2026-Q2.csv").read_text(encoding="utf-8")
    cut = monkey.index("\n", monkey.index("\n", monkey.index("\n") + 1) + 1) + 40
    (folder / "monkey-truncated.csv").write_text(monkey[:cut], encoding="utf-8")
    # … and one cut inside a quoted cell.
    quoted = monkey.replace(",Payments,", ',"Payments, EMEA",', 1)
    (folder / "monkey-truncated-quote.csv").write_text(quoted[: quoted.index("EMEA")], encoding="utf-8")
    return folder


EXPECTED = {
    "surveys/pouls-latin1.csv": "not UTF-8 text (line 1, byte ",
    "surveys/pouls-sheet.csv": "binary data, not a CSV export",
    "surveys/pouls-no-header.csv": 'not a Google Forms export: first column is "02/06/2026 09:15:00"',
    "surveys/pouls-duplicate-columns.csv": (
        'question "Ma charge de travail est soutenable." appears 2 times in the header'
        " (duplicate column names)"
    ),
    "surveys/monkey-truncated.csv": "line 4 stops after ",
    "surveys/monkey-truncated-quote.csv": "it ends inside a quoted cell: the file is truncated",
}


def test_unreadable_exports_are_quarantined_as_files_and_the_rest_lands(con, surveys):
    stats = land(con, surveys, POULS, ENGAGEMENT)  # no SourceError: the run goes on

    # Every good export landed what it does alone (test_survey_labels.py): 3 responses each.
    landed = con.execute(
        "select _source_file, count(*) from raw.survey_responses group by 1 order by 1"
    ).fetchall()
    assert landed == [(GOOD_MONKEY, 3), (GOOD_POULS, 3)]
    # One quarantined record per broken file: its path, and a reason naming it.
    files = dict(
        con.execute(
            "select locator, reason from raw.rejected_records where not contains(locator, '.csv:')"
        ).fetchall()
    )
    assert sorted(files) == sorted(EXPECTED)
    for path, reason in EXPECTED.items():
        assert files[path].startswith(f"{path}: {reason}"), files[path]
    # The run summary and `productops status` list each broken file with its reason.
    for path in EXPECTED:
        assert stats.files[path].problem and stats.files[path].lines == 0
    problems = dict(
        con.execute("select path, problem from raw.loaded_files where problem is not null").fetchall()
    )
    assert sorted(problems) == sorted(EXPECTED)
    assert stats.rows_rejected == len(EXPECTED) + 2  # + the SurveyMonkey export's lines 7 and 8
    # The survey's own counts stay its rows' four fates.
    assert stats.files["surveys:pouls"].__dict__ == {
        "landed": 3, "duplicates": 0, "skipped": 0, "rejected": 0, "problem": None,
    }  # fmt: skip


def test_a_fixed_export_lands_and_its_quarantine_is_forgotten(con, surveys):
    land(con, surveys, POULS)
    # The user exports the sheet again, as UTF-8 this time (another respondent's answers).
    fixed = (FIXTURES / "pouls-2026-Q2.csv").read_text(encoding="utf-8").replace("jeanne@", "paul@")
    (surveys / "pouls-latin1.csv").write_text(fixed, encoding="utf-8")
    land(con, surveys, POULS, run_id="run-2")

    locators = {locator for (locator,) in con.execute("select locator from raw.rejected_records").fetchall()}
    assert "surveys/pouls-latin1.csv" not in locators
    assert "surveys/pouls-sheet.csv" in locators  # unchanged, still quarantined
    problems = {
        p for (p,) in con.execute("select path from raw.loaded_files where problem is not null").fetchall()
    }
    assert problems == {
        "surveys/pouls-sheet.csv",
        "surveys/pouls-no-header.csv",
        "surveys/pouls-duplicate-columns.csv",
    }
    # The fixed file's rows landed: paul is new; the others are the same people in the
    # same wave, so the latest submission of each wins (both files hold the same times,
    # the later file in read order wins the tie).
    landed = con.execute(
        "select _source_file, count(*) from raw.survey_responses group by 1 order by 1"
    ).fetchall()
    assert landed == [(GOOD_POULS, 1), ("surveys/pouls-latin1.csv", 3)]
