"""The gates on their own: suites, volume, quarantine share, freshness and the
write-audit ledger, on small warehouses built with the real loader."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from ingestion.config import DEFAULT_FRESHNESS_HOURS, ConfigError, load_settings
from ingestion.loader import UNVALIDATED_FILE_DIGEST, RawLoader, ensure_raw_schema
from ingestion.pages import FileToLand, Page, Rejected
from ingestion.raw_tables import TABLES
from orchestration.defs.sources import RAW_STREAMS
from orchestration.gates import in_engine, ledger
from orchestration.gates.expectations import SUITES, SuiteContext, suite_for
from orchestration.gates.report import published_state
from orchestration.gates.source_gates import (
    EXPECTATIONS,
    FRESHNESS,
    REJECTED_SHARE,
    SAMPLE_SIZE,
    VOLUME,
    SourceTables,
    reference_time,
    run_source_gates,
    scrub_emails,
    validate,
)

USAGE = SourceTables("usage", (("events", "usage_events"),))
NOW = datetime.now(UTC).replace(microsecond=0)


def settings_for(tmp_path: Path, pipeline: str = ""):
    demo = tmp_path / "demo"
    demo.mkdir(exist_ok=True)
    (demo / "productops.toml").write_text(f"[pipeline]\n{pipeline}\n")
    return load_settings({"PRODUCTOPS_DEMO_DIR": str(demo)})


def usage_row(key: str, email: str = "ann@example.com", at: datetime | None = None, line: int = 1) -> dict:
    return {
        "event_key": key,
        "occurred_at": at or NOW - timedelta(hours=2),
        "user_email": email,
        "tool": "notion-app",
        "event": "page_viewed",
        "_source_file": "usage/a.jsonl",
        "_line_number": line,
    }


def land(
    con,
    run_id: str,
    rows: list[dict],
    rejected: int = 0,
    cursor: str | None = None,
    drop_file=None,
    file: tuple[str, str] | None = None,
):
    """Land one page of usage events the way the usage reader does; `file` (path, digest) is recorded."""
    page = Page(locator="usage/a.jsonl")
    if file:
        page.files = [FileToLand(*file, stream="events")]
    for row in rows:
        page.add("usage_events", row)
    page.rejected = [
        Rejected("events", f"usage/a.jsonl:{900 + i}", f"usage/a.jsonl:{900 + i}: invalid JSON")
        for i in range(rejected)
    ]
    if cursor:
        page.cursors = {"events": cursor}
    if drop_file:
        page.replaces = {"usage_events": ("_source_file", [drop_file])}
    RawLoader(con, run_id).land("usage", "events", [page])


def outcomes_by_check(outcomes) -> dict[str, object]:
    return {o.check: o for o in outcomes}


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ensure_raw_schema(connection)
    yield connection
    connection.close()


# -- write-audit: a failed batch is rewound and gated again until it passes ------------


def test_a_failed_batch_is_rewound_and_gated_again_until_fixed(con, tmp_path):
    settings = settings_for(tmp_path)
    land(
        con,
        "r1",
        [usage_row(f"e{i}", line=i + 1) for i in range(200)],
        cursor="c1",
        file=("usage/a.jsonl", "sha-a"),
    )
    assert all(o.passed for o in run_source_gates(con, USAGE, "r1", settings))
    assert ledger.batch_status(con, "r1") == {"usage": "passed"}

    # r2 lands one event whose email is not an email, and moves the cursor on.
    land(
        con,
        "r2",
        [usage_row("e7", email="not-an-email", line=8)],
        cursor="c2",
        file=("usage/b.jsonl", "sha-b"),
    )
    failed = [o for o in run_source_gates(con, USAGE, "r2", settings) if not o.passed]
    assert [(o.check, o.failing) for o in failed] == [(EXPECTATIONS, 1)]
    assert "user_email looks like an email address: 1 of 1 rows fail" in failed[0].message
    assert "not-an-email" not in failed[0].message  # an identity column is never quoted
    assert ledger.batch_status(con, "r2") == {"usage": "failed"}
    # Rewound: the cursor is back where r1 left it, and r2's file will be read again.
    assert con.execute(
        "select stream, cursor_value from raw.load_state where source = 'usage'"
    ).fetchall() == [("events", "c1")]
    assert dict(con.execute("select path, sha256 from raw.loaded_files").fetchall()) == {
        "usage/a.jsonl": "sha-a",
        "usage/b.jsonl": UNVALIDATED_FILE_DIGEST,
    }

    # r3 lands nothing new, but the bad row of r2 is still unvalidated: it fails again.
    failed = [o for o in run_source_gates(con, USAGE, "r3", settings) if not o.passed]
    assert [(o.check, o.failing) for o in failed] == [(EXPECTATIONS, 1)]
    assert ledger.unvalidated_counts(con, {"usage_events": "usage"}) == {"usage_events": 1}

    # r4 lands the corrected event (same key): the batch passes, nothing is left unvalidated.
    land(con, "r4", [usage_row("e7", line=8)], cursor="c4")
    assert all(o.passed for o in run_source_gates(con, USAGE, "r4", settings))
    assert ledger.unvalidated_counts(con, {"usage_events": "usage"}) == {}
    assert con.execute("select cursor_value, run_id from audit.cursors").fetchall() == [("c4", "r4")]


def test_rows_a_crashed_run_left_are_gated_by_the_next_run(con, tmp_path):
    settings = settings_for(tmp_path)
    land(con, "r1", [usage_row(f"e{i}") for i in range(3)])
    assert all(o.passed for o in run_source_gates(con, USAGE, "r1", settings))
    land(con, "crashed", [usage_row("e9")])  # landed, then the run died before its gates
    land(con, "r2", [usage_row("e10")])

    outcomes = outcomes_by_check(run_source_gates(con, USAGE, "r2", settings))

    assert outcomes[EXPECTATIONS].message == "raw.usage_events: 2 rows checked, all 8 expectations met"
    assert con.execute(
        "select run_id, status, validated_by from audit.batches order by run_id"
    ).fetchall() == [
        ("crashed", "revalidated", "r2"),
        ("r1", "passed", "r1"),
        ("r2", "passed", "r2"),
    ]


# -- volume, quarantine share, freshness --------------------------------------------------


def test_volume_gate_compares_the_table_with_the_last_validated_load(con, tmp_path):
    settings = settings_for(tmp_path)
    land(con, "r1", [usage_row(f"e{i}", line=i + 1) for i in range(1000)])
    assert all(o.passed for o in run_source_gates(con, USAGE, "r1", settings))

    # The file is re-delivered with 300 of its 1000 events: the table loses 70 %.
    land(con, "r2", [usage_row(f"e{i}", line=i + 1) for i in range(300)], drop_file="usage/a.jsonl")
    volume = outcomes_by_check(run_source_gates(con, USAGE, "r2", settings))[VOLUME]

    assert not volume.passed and volume.failing == 700
    assert volume.message == (
        "raw.usage_events: 300 rows after this load (300 landed), 70% fewer than after the previous "
        "load (1000 rows); at most 50% fewer allowed"
    )
    # Allowed once the drop is intended: 1.0 turns the comparison off.
    relaxed = settings_for(tmp_path, "volume_max_drop = 1.0")
    assert outcomes_by_check(run_source_gates(con, USAGE, "r3", relaxed))[VOLUME].passed


def test_volume_gate_ignores_small_tables_and_quiet_days(con, tmp_path):
    settings = settings_for(tmp_path)
    land(con, "r1", [usage_row(f"e{i}") for i in range(99)])
    run_source_gates(con, USAGE, "r1", settings)
    land(con, "r2", [usage_row("e1")], drop_file="usage/a.jsonl")
    small = outcomes_by_check(run_source_gates(con, USAGE, "r2", settings))[VOLUME]
    assert small.passed and "no previous load of 100+ rows to compare" in small.message


def test_rejected_share_names_counts_and_reasons_without_identities(con, tmp_path):
    settings = settings_for(tmp_path, "rejected_min_count = 3")
    land(con, "r1", [usage_row(f"e{i}") for i in range(97)], rejected=3)
    con.execute(
        "insert into raw.rejected_records values ('usage', 'events',"
        " 'usage/a.jsonl:7', ?, null, 'r1', now())",
        ["usage/a.jsonl:7: unknown user bob@example.com"],
    )

    share = outcomes_by_check(run_source_gates(con, USAGE, "r1", settings))[REJECTED_SHARE]

    assert not share.passed and share.failing == 3
    assert share.message == (
        "usage: 3 of 100 records rejected in this run (3.00%); threshold 1.00% and at least 3 records; "
        "top reasons: 3 × invalid JSON, 1 × unknown user <redacted>"
    )
    assert share.metadata["top_reasons"] == "- 3 × invalid JSON\n- 1 × unknown user <redacted>"
    assert ledger.batch_status(con, "r1") == {"usage": "failed"}


def test_rejected_share_threshold_comes_from_the_config(con, tmp_path):
    land(con, "r1", [usage_row(f"e{i}") for i in range(97)], rejected=3)
    relaxed = settings_for(tmp_path, "rejected_share_threshold = 0.05\nrejected_min_count = 1")
    assert outcomes_by_check(run_source_gates(con, USAGE, "r1", relaxed))[REJECTED_SHARE].passed


def test_a_small_batch_fails_the_rejected_share_only_past_the_minimum_count(con, tmp_path):
    # A first survey wave of 8 answers with 1 bad one: 12.5 % but one record.
    land(con, "r1", [usage_row(f"e{i}") for i in range(7)], rejected=1)
    default = outcomes_by_check(run_source_gates(con, USAGE, "r1", settings_for(tmp_path)))[REJECTED_SHARE]
    assert default.passed
    assert default.message == (
        "usage: 1 of 8 records rejected in this run (12.50%); threshold 1.00% and at least 10 records"
    )
    strict = settings_for(tmp_path, "rejected_min_count = { usage = 1, surveys = 50 }")
    assert strict.rejected_min_count["surveys"] == 50 and strict.rejected_min_count["jira"] == 10
    outcome = outcomes_by_check(run_source_gates(con, USAGE, "r1", strict))[REJECTED_SHARE]
    assert not outcome.passed and outcome.metadata["min_count"] == 1


def test_freshness_against_the_configured_window(con, tmp_path):
    land(con, "r1", [usage_row("e1", at=NOW - timedelta(hours=80))])
    stale = outcomes_by_check(run_source_gates(con, USAGE, "r1", settings_for(tmp_path)))[FRESHNESS]
    assert not stale.passed
    assert stale.message.startswith("usage: newest raw.usage_events.occurred_at is ")
    assert stale.message.endswith("; window 72 h") and ", 80 h before " in stale.message

    widened = settings_for(tmp_path, "[pipeline.freshness_hours]\nusage = 96")
    assert outcomes_by_check(run_source_gates(con, USAGE, "r1", widened))[FRESHNESS].passed
    off = settings_for(tmp_path, "freshness_hours = { usage = 0 }")
    assert outcomes_by_check(run_source_gates(con, USAGE, "r1", off))[FRESHNESS].message == (
        "usage: no freshness window configured"
    )


def test_freshness_is_judged_only_when_the_source_was_extracted(con, tmp_path):
    settings = settings_for(tmp_path)
    # A run that did not extract usage (not configured) says so and passes.
    assert outcomes_by_check(run_source_gates(con, USAGE, "r0", settings))[FRESHNESS].message == (
        "usage: not extracted in this run"
    )
    # A run that extracted it and found nothing at all fails.
    RawLoader(con, "r1").land("usage", "events", [])
    empty = outcomes_by_check(run_source_gates(con, USAGE, "r1", settings))[FRESHNESS]
    assert not empty.passed and empty.message == "usage: raw.usage_events holds no rows at all; window 72 h"


def test_the_demo_is_judged_at_its_history_end(tmp_path):
    settings = settings_for(tmp_path)
    assert abs((reference_time(settings) - datetime.now(UTC)).total_seconds()) < 60
    (tmp_path / "demo" / "generator.json").write_text(json.dumps({"history_end": "2026-11-20T00:00:00Z"}))
    assert reference_time(settings) == datetime(2026, 11, 20, tzinfo=UTC)


# -- the suites --------------------------------------------------------------------------


def in_engine_and_in_gx(con, suite, query: str) -> list[dict]:
    """The suite's failures as the gates find them in SQL, checked equal to Great Expectations'
    own on the same batch in pandas: counts, rows checked, samples and order."""
    in_sql = in_engine.evaluate(con, suite, query, SAMPLE_SIZE, scrub_emails)
    assert in_sql == validate(suite, con.execute(query).df())
    return in_sql


def failures_of(con, raw_table: str, settings, now: datetime = NOW) -> dict[str, dict]:
    suite = suite_for(raw_table, SuiteContext(settings, now))
    query = suite.query.format(batch=f"raw.{raw_table}")
    return {f["description"]: f for f in in_engine_and_in_gx(con, suite, query)}


def test_jira_suite_catches_unparseable_and_future_times_and_duplicate_keys(con, tmp_path):
    def issue(issue_id: str, key: str, created: str, updated: str, resolved: str | None = None) -> tuple:
        payload = {"fields": {"created": created, "resolutiondate": resolved, "status": {"id": "3"}}}
        return (
            issue_id,
            key,
            key.split("-")[0],
            updated,
            2,
            json.dumps(payload),
            None,
            False,
            None,
            NOW,
            "r1",
        )

    rows = [
        issue("1", "PAY-1", "2024-03-31T01:30:00.000+0100", "2024-04-01 00:00:00+00"),
        issue("2", "PAY-1", "2024-03-31T03:30:00.000+0200", "2024-04-01 00:00:00+00", "31/03/2024 10:00"),
        issue("3", "PAY-3", "yesterday", "2090-01-01 00:00:00+00"),
    ]
    con.executemany("insert into raw.jira_issues values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    failures = failures_of(con, "jira_issues", settings_for(tmp_path))

    assert failures["issue_key is unique"]["unexpected"] == 2
    assert failures["issue_key is unique"]["sample"] == ["PAY-1"]
    assert failures["$.fields.created is present and parses as a Jira timestamp"]["unexpected"] == 1
    assert failures["$.fields.resolutiondate parses as a Jira timestamp when present"]["unexpected"] == 1
    assert (
        next(f for d, f in failures.items() if d.startswith("updated_at lies between 2000-01-01"))[
            "unexpected"
        ]
        == 1
    )
    assert len(failures) == 4


def test_survey_suites_check_scales_enps_and_that_respondents_are_hashed(con, tmp_path):
    config = """
[[surveys]]
id = "pulse"
format = "google_forms"
team_question = "Team?"
recommend_question = "Recommend?"
recommend_scale = [0, 100]

[[surveys.likert]]
id = "workload"
question = "Workload?"
scale = [1, 5]
"""
    settings_for(tmp_path)
    (tmp_path / "demo" / "productops.toml").write_text(config)
    settings = load_settings({"PRODUCTOPS_DEMO_DIR": str(tmp_path / "demo")})
    hashed = "ab" * 32
    con.executemany(
        "insert into raw.survey_responses values "
        "(?, 'pulse', 'google_forms', '2026-Q1', ?, ?, 'Payments', 'f.csv', ?, ?, 'r1')",
        [("k1", NOW, hashed, 2, NOW), ("k2", NOW, "ann@example.com", 3, NOW)],
    )
    con.executemany(
        "insert into raw.survey_answers values (?, ?, ?, ?, ?, ?, ?, 'r1')",
        [
            ("k1", "workload", "likert", 6.0, 1.0, 7.0, NOW),  # stored scale says 1–7, the mapping 1–5
            ("k1", "recommend", "recommend", 42.0, 0.0, 100.0, NOW),  # 0–100 let through, eNPS needs 0–10
            ("k2", "workload", "likert", 3.0, 1.0, 5.0, NOW),
        ],
    )

    responses = failures_of(con, "survey_responses", settings)
    answers = failures_of(con, "survey_answers", settings)

    assert list(responses) == ["respondent_key is a salted hash"]
    assert responses["respondent_key is a salted hash"]["sample"] == []  # never shown
    assert {d: f["unexpected"] for d, f in answers.items()} == {
        "recommend answers lie on the 0–10 eNPS scale": 1,
        "answers to pulse/workload lie on its scale 1–5": 1,
    }


def test_a_batch_evaluated_in_the_engine_fails_exactly_as_in_great_expectations(con, tmp_path):
    rows = [(f"e{n}", NOW, f"u{n}@example.com", "Copilot", "open", "a.jsonl", n + 1, "r1") for n in range(20)]
    rows[3] = ("e1", *rows[3][1:])  # a key twice
    rows[7] = ("e1", *rows[7][1:])  # and a third time
    rows[5] = (*rows[5][:2], "not-an-email", *rows[5][3:])
    rows[9] = (*rows[9][:2], "nor-this-one", *rows[9][3:])
    rows[10] = (*rows[10][:2], "trailing@newline.example\n", *rows[10][3:])  # Python's $ lets it pass
    rows[12] = (*rows[12][:3], None, *rows[12][4:])
    rows[14] = (rows[14][0], NOW + timedelta(days=2), *rows[14][2:])
    rows[15] = (*rows[15][:6], 0, "r1")
    rows[16] = (None, *rows[16][1:])
    con.execute(
        "create temp table batch (event_key varchar, occurred_at timestamptz, user_email varchar,"
        " tool varchar, event varchar, _source_file varchar, _line_number bigint, _run_id varchar,"
        " identity_kind varchar default 'email')"
    )
    con.executemany("insert into batch values (?, ?, ?, ?, ?, ?, ?, ?, 'email')", rows)
    con.execute("update batch set identity_kind = 'id', user_email = 'U123' where event_key = 'e18'")
    con.execute("update batch set identity_kind = 'phone' where event_key = 'e19'")
    suite = suite_for("usage_events", SuiteContext(settings_for(tmp_path), NOW))

    failures = in_engine_and_in_gx(con, suite, suite.query.format(batch="batch"))

    assert [(f["description"], f["unexpected"], f["checked"]) for f in failures] == [
        ("event_key is not null", 1, 20),
        ("event_key is unique", 3, 20),
        (f"occurred_at lies between 2000-01-01 and {NOW + timedelta(hours=1):%Y-%m-%d %H:%M} UTC", 1, 20),
        ("user_email looks like an email address", 2, 18),  # the id and phone rows are no email
        ("identity_kind is one of email, id", 1, 20),
        ("tool is not null", 1, 20),
        ("_line_number is positive", 1, 20),
    ]
    assert failures[1]["sample"] == ["e1"]
    assert failures[6]["sample"] == ["0"]
    assert failures[3]["sample"] == []  # user_email never shown


def test_every_raw_table_has_a_suite():
    bookkeeping = {"rejected_records", "load_state", "load_log", "loaded_files"}
    assert set(TABLES) - bookkeeping <= set(SUITES)
    landed = {raw_table for streams in RAW_STREAMS.values() for _, raw_table, _ in streams}
    assert landed <= set(SUITES)


# -- configuration and reporting ----------------------------------------------------------


def test_gate_settings_defaults_and_overrides(tmp_path):
    defaults = settings_for(tmp_path)
    assert (defaults.rejected_share_threshold, defaults.volume_max_drop, defaults.volume_min_rows) == (
        0.01,
        0.5,
        100,
    )
    assert defaults.freshness_hours == DEFAULT_FRESHNESS_HOURS and "surveys" not in defaults.freshness_hours

    every = settings_for(tmp_path, "freshness_hours = 24\nvolume_max_drop = 0.2\nvolume_min_rows = 10")
    assert every.freshness_hours == dict.fromkeys(DEFAULT_FRESHNESS_HOURS, 24.0)
    assert (every.volume_max_drop, every.volume_min_rows) == (0.2, 10)
    some = settings_for(tmp_path, "[pipeline.freshness_hours]\nsurveys = 2400\nokta = 0")
    expected = {**DEFAULT_FRESHNESS_HOURS, "surveys": 2400.0}
    del expected["okta"]  # 0 turns a source's check off
    assert some.freshness_hours == expected


@pytest.mark.parametrize(
    "line",
    [
        "rejected_share_threshold = 5",
        "volume_max_drop = -0.1",
        "volume_min_rows = 2.5",
        'freshness_hours = "daily"',
        "freshness_hours = { usage = -1 }",
    ],
)
def test_bad_gate_settings_are_refused(tmp_path, line):
    with pytest.raises(ConfigError, match=r"pipeline\.(rejected_share_threshold|volume|freshness)"):
        settings_for(tmp_path, line)


def test_published_state_says_what_readers_see(tmp_path):
    target = tmp_path / "published" / "productops.duckdb"
    assert published_state(target).startswith("Nothing published yet")
    target.parent.mkdir()
    target.write_bytes(b"x")
    assert published_state(target).startswith(f"Published marts left unchanged: {target} (last published ")


def test_every_raw_table_is_gated_by_blocking_checks_in_the_duckdb_pool():
    from orchestration.defs.checks import raw_checks

    specs = {
        (spec.asset_key.to_user_string(), spec.name): spec
        for checks in raw_checks
        for spec in checks.check_specs
    }
    for source, streams in RAW_STREAMS.items():
        for table, _, _ in streams:
            assert (f"{source}/{table}", EXPECTATIONS) in specs
            assert (f"{source}/{table}", VOLUME) in specs
        assert (f"{source}/{streams[0][0]}", REJECTED_SHARE) in specs
    assert ("usage/events", FRESHNESS) in specs and ("jira/issues", FRESHNESS) in specs
    assert all(spec.blocking for spec in specs.values())
    assert {checks.op.pool for checks in raw_checks} == {"duckdb"}
