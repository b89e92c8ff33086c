"""Usage event logs: JSONL / CSV / gzip from the landing folder into raw.usage_events.

Expected values are computed by hand from tests/fixtures/usage/.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from ingestion.config import ConfigError, UsageMapping, load_settings
from ingestion.loader import RawLoader
from ingestion.sources import usage_logs
from ingestion.sources.usage_logs import FieldMapping, land_usage_logs, usage_file_mappings

FIXTURES = Path(__file__).parent / "fixtures" / "usage"
MARCH = "usage/events-2026-03.jsonl"
APRIL = "usage/events-2026-04.jsonl.gz"
MAY = "usage/events-2026-05.csv"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def line_key(source_file: str, line: int) -> str:
    return hashlib.sha256(f"{source_file}:{line}".encode()).hexdigest()


@pytest.fixture
def landing(tmp_path) -> Path:
    """The usage fixtures in a landing folder; April's log is gzipped."""
    usage = tmp_path / "landing" / "usage"
    usage.mkdir(parents=True)
    shutil.copy(FIXTURES / "events-2026-03.jsonl", usage)
    shutil.copy(FIXTURES / "events-2026-05.csv", usage)
    with gzip.open(usage / "events-2026-04.jsonl.gz", "wb") as fh:
        fh.write((FIXTURES / "events-2026-04.jsonl").read_bytes())
    return tmp_path / "landing"


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as c:
        yield c


def load(con, landing: Path, run_id: str = "run-1", mapping: UsageMapping | None = None):
    loader = RawLoader(con, run_id)
    return land_usage_logs(con, loader, landing / "usage", mapping or UsageMapping())


def events(con, source_file: str | None = None) -> list[tuple]:
    sql = "select event_key, occurred_at, user_email, tool, event, _line_number from raw.usage_events"
    params: list = []
    if source_file:
        sql += " where _source_file = ?"
        params.append(source_file)
    return con.execute(sql + " order by _source_file, _line_number", params).fetchall()


def rejects(con) -> list[tuple]:
    return con.execute(
        "select locator, reason, payload from raw.rejected_records"
        " where source = 'usage' and stream = 'events' order by rejected_at, locator"
    ).fetchall()


def test_jsonl_lines_land_in_utc_with_lower_cased_emails(con, landing):
    load(con, landing)
    assert events(con, MARCH) == [
        # +01:00 the evening before the change to summer time, +02:00 after it
        ("ev-1", utc(2026, 3, 28, 22, 30), "ann@example.com", "Jira", "issue_viewed", 1),
        ("ev-2", utc(2026, 3, 29, 1, 30), "bob@example.com", "Figma", "file_opened", 2),
        # no event_id: keyed by file + line; email trimmed and lower-cased
        (
            line_key(MARCH, 8),
            datetime(2026, 3, 29, 15, 15, 0, 250000, tzinfo=UTC),
            "frank@example.com",
            "Slack",
            "message_sent",
            8,
        ),
    ]


def test_bad_lines_are_quarantined_with_file_line_and_reason(con, landing):
    stats = load(con, landing)
    assert (stats.pages, stats.rows_landed, stats.rows_rejected) == (3, 7, 7)
    got = {locator: reason for locator, reason, _ in rejects(con)}
    assert got == {
        f"{MARCH}:4": 'timestamp has no UTC offset: "2026-03-29T09:00:00"',
        f"{MARCH}:5": "invalid JSON",
        f"{MARCH}:7": "missing required field: event",
        f"{MARCH}:9": "not a JSON object",
        f"{MARCH}:10": 'timestamp is not an ISO 8601 date-time: "yesterday"',
        f"{APRIL}:3": 'timestamp has no UTC offset: "2026-04-01T12:10:00"',
        f"{MAY}:4": "expected 5 CSV fields, found 3",
    }


def test_quarantined_payloads_keep_the_line_without_its_email(con, landing):
    load(con, landing)
    payloads = {locator: payload for locator, _, payload in rejects(con)}
    assert payloads[f"{MARCH}:7"] == '{"timestamp":"2026-03-29T10:00:00Z","tool":"Slack"}'
    assert payloads[f"{MARCH}:5"] == (
        '{"timestamp":"2026-03-29T09:00:00Z","user_email":"<redacted>","tool":"Jira",'
    )
    assert payloads[f"{MAY}:4"] == "2026-05-04T09:00:00Z,<redacted>,Notion"
    assert not any("@" in payload for payload in payloads.values())


def test_duplicate_event_ids_keep_the_first_line(con, landing):
    load(con, landing)
    # ev-1 is on lines 1 and 6 of March; ev-2 again on line 6 of the May CSV
    assert con.execute(
        "select event_key, _source_file, _line_number, event from raw.usage_events"
        " where event_key in ('ev-1', 'ev-2') order by 1"
    ).fetchall() == [
        ("ev-1", MARCH, 1, "issue_viewed"),
        ("ev-2", MARCH, 2, "file_opened"),
    ]


def test_a_key_repeated_within_a_file_and_across_files_lands_once_and_is_counted(con, tmp_path):
    usage = tmp_path / "landing" / "usage"
    usage.mkdir(parents=True)

    def line(event_id: str, event: str) -> str:
        return (
            f'{{"timestamp": "2026-05-01T10:00:00Z", "user_email": "Ann@example.com", "tool": "Miro",'
            f' "event": "{event}", "event_id": "{event_id}"}}\n'
        )

    (usage / "a.jsonl").write_text(line("e1", "open") + line("e2", "open") + line("e1", "edit") + "\n")
    (usage / "b.jsonl").write_text(line("e2", "edit") + line("e3", "open") + line("e3", "edit"))
    stats = land_usage_logs(con, RawLoader(con, "run-1"), usage, UsageMapping())
    counted = {path: (c.landed, c.duplicates, c.skipped, c.rejected) for path, c in stats.files.items()}
    assert counted == {"usage/a.jsonl": (2, 1, 1, 0), "usage/b.jsonl": (1, 2, 0, 0)}
    assert (stats.rows_landed, stats.rows_duplicate) == (3, 3)
    # The first line of a key wins within a file, the file landed first across files.
    assert con.execute(
        "select event_key, _source_file, _line_number, event from raw.usage_events order by 1"
    ).fetchall() == [
        ("e1", "usage/a.jsonl", 1, "open"),
        ("e2", "usage/a.jsonl", 2, "open"),
        ("e3", "usage/b.jsonl", 2, "open"),
    ]
    assert con.execute(
        "select path, rows_landed, rows_duplicate from raw.loaded_files order by 1"
    ).fetchall() == [("usage/a.jsonl", 2, 1), ("usage/b.jsonl", 1, 2)]
    # No index does it: the loader's anti-join (raw_tables.DEDUPE_KEYS).
    assert con.execute(
        "select count(*) from duckdb_constraints() where table_name = 'usage_events'"
        " and constraint_type in ('PRIMARY KEY', 'UNIQUE')"
    ).fetchall() == [(0,)]
    # a.jsonl changed: it replaces its own rows, and b.jsonl's e2 (a duplicate before) stays out.
    (usage / "a.jsonl").write_text(line("e2", "view") + line("e4", "open"))
    stats = land_usage_logs(con, RawLoader(con, "run-2"), usage, UsageMapping())
    assert {p: (c.landed, c.duplicates) for p, c in stats.files.items()} == {"usage/a.jsonl": (2, 0)}
    assert con.execute(
        "select list(event_key || ':' || event order by event_key) from raw.usage_events"
    ).fetchall() == [(["e2:view", "e3:open", "e4:open"],)]


def test_gzip_file_lands(con, landing):
    load(con, landing)
    assert events(con, APRIL) == [
        ("ev-10", utc(2026, 4, 1, 12, 0), "ann@example.com", "Jira", "issue_created", 1),
        ("ev-11", utc(2026, 4, 1, 12, 5), "bob@example.com", "Figma", "file_opened", 2),
    ]


def test_csv_file_uses_its_header_and_keeps_line_numbers(con, landing):
    load(con, landing)
    assert events(con, MAY) == [
        ("csv-1", utc(2026, 5, 4, 6, 0), "hana@example.com", "Notion", "page_viewed, shared", 2),
        (line_key(MAY, 5), utc(2026, 5, 4, 10, 0), "ivan@example.com", "Notion", "page_edited", 5),
    ]


def test_unchanged_files_are_skipped_on_reload(con, landing):
    load(con, landing)
    before = (events(con), rejects(con))
    stats = load(con, landing, run_id="run-2")
    assert (stats.pages, stats.rows_landed, stats.rows_rejected) == (0, 0, 0)
    assert (events(con), rejects(con)) == before
    assert con.execute(
        "select run_id, pages, rows_landed, rows_rejected from raw.load_log order by run_id"
    ).fetchall() == [("run-1", 3, 7, 7), ("run-2", 0, 0, 0)]


def test_changed_file_replaces_its_earlier_rows(con, landing):
    load(con, landing)
    march = landing / MARCH
    march.write_text(
        '{"timestamp":"2026-03-30T08:00:00Z","user_email":"zoe@example.com","tool":"Jira",'
        '"event":"issue_viewed","event_id":"ev-99"}\n',
        encoding="utf-8",
    )
    stats = load(con, landing, run_id="run-2")
    assert (stats.pages, stats.rows_landed, stats.rows_rejected) == (1, 1, 0)
    assert events(con, MARCH) == [
        ("ev-99", utc(2026, 3, 30, 8, 0), "zoe@example.com", "Jira", "issue_viewed", 1)
    ]
    assert len(events(con, APRIL)) == 2  # other files untouched
    # the old content's quarantined lines went with it; the other files' stay
    assert [locator for locator, _, _ in rejects(con)] == [f"{APRIL}:3", f"{MAY}:4"]
    sha = hashlib.sha256(march.read_bytes()).hexdigest()
    assert con.execute(
        "select sha256, rows_landed, run_id from raw.loaded_files where path = ?", [MARCH]
    ).fetchall() == [(sha, 1, "run-2")]


def test_renamed_fields_and_json_array_file(con, tmp_path):
    usage = tmp_path / "landing" / "usage"
    usage.mkdir(parents=True)
    (usage / "export.json").write_text(
        '[{"at": "2026-06-01T10:00:00+02:00", "who": "Kim@Example.com", "app": "Miro",'
        ' "action": "board_opened", "id": 17},\n'
        ' {"at": "2026-06-01T10:05:00+02:00", "app": "Miro", "action": "board_opened"}]\n',
        encoding="utf-8",
    )
    mapping = UsageMapping(timestamp="at", user_email="who", tool="app", event="action", event_id="id")
    stats = load(con, tmp_path / "landing", mapping=mapping)
    assert (stats.rows_landed, stats.rows_rejected) == (1, 1)
    assert events(con) == [("17", utc(2026, 6, 1, 8, 0), "kim@example.com", "Miro", "board_opened", 1)]
    assert rejects(con)[0][:2] == ("usage/export.json:2", "missing required field: who")


def test_mixed_line_endings_land_line_by_line(con, landing):
    # DuckDB refuses to split such a file; its line-safe copy keeps every line number.
    (landing / "usage" / "events-2026-02.jsonl").write_bytes(
        b'{"timestamp":"2026-02-01T10:00:00Z","user_email":"leak@example.com","tool":"Jira",'
        b'"event":"x","event_id":"feb-1"}\r\n{"a":1}\n{"b":"leak@example.com"}\r\n'
    )
    stats = load(con, landing)
    assert [row[0] for row in events(con, "usage/events-2026-02.jsonl")] == ["feb-1"]
    got = {locator: reason for locator, reason, _ in rejects(con) if "2026-02" in locator}
    assert set(got) == {"usage/events-2026-02.jsonl:2", "usage/events-2026-02.jsonl:3"}
    assert "@" not in str(rejects(con))
    counts = stats.files["usage/events-2026-02.jsonl"]
    assert (counts.landed, counts.duplicates, counts.skipped, counts.rejected) == (1, 0, 0, 2)


def test_missing_csv_column_quarantines_the_file_by_name(con, tmp_path):
    usage = tmp_path / "landing" / "usage"
    usage.mkdir(parents=True)
    (usage / "bad.csv").write_text("when,user_email,tool,event\n", encoding="utf-8")
    stats = load(con, tmp_path / "landing")
    assert rejects(con) == [("usage/bad.csv", "usage/bad.csv: CSV header has no column 'timestamp'", None)]
    assert stats.files["usage/bad.csv"].problem == "CSV header has no column 'timestamp'"
    assert stats.rows_rejected == 1


# -- per-file mappings: Segment track events, a log without a tool column ----------------

SEGMENT = "usage/segment-2026-05.jsonl"
MIRO = "usage/miro-audit-2026-05.csv"
PER_FILE_TOML = """
[usage]
timestamp = "timestamp"
user_email = "user_email"

[[usage_files]]                      # Segment track events (an S3 / webhook export)
files = "segment-*.jsonl*"
user_email = ["userId", "anonymousId"]
tool = "properties.tool"
event_id = "messageId"
only = { type = "track" }            # identify / page / group calls are not uses

[[usage_files]]                      # Miro's audit log: every line is a Miro event
files = "miro-audit-*.csv"
timestamp = "Date"
user_email = "Actor email"
event = "Action"
event_id = "Event ID"
tool_name = "Miro"
"""


@pytest.fixture
def per_file(tmp_path) -> tuple[Path, list[FieldMapping]]:
    usage = tmp_path / "landing" / "usage"
    usage.mkdir(parents=True)
    for name in ("segment-2026-05.jsonl", "miro-audit-2026-05.csv", "events-2026-03.jsonl"):
        shutil.copy(FIXTURES / name, usage)
    config = tmp_path / "productops.toml"
    config.write_text(PER_FILE_TOML, encoding="utf-8")
    return tmp_path / "landing", usage_file_mappings(config, UsageMapping())


def load_per_file(con, landing_and_mappings, run_id: str = "run-1"):
    landing, mappings = landing_and_mappings
    loader = RawLoader(con, run_id)
    return land_usage_logs(con, loader, landing / "usage", UsageMapping(), file_mappings=mappings)


def test_segment_track_events(con, per_file):
    load_per_file(con, per_file)
    assert events(con, SEGMENT) == [
        ("ajs-next-1746601a1b2c3d4e5f6", datetime(2026, 5, 6, 9, 12, 7, 815000, tzinfo=UTC),
         "ann@example.com", "Miro", "Board Opened", 1),
        # no userId: the anonymousId stands in (it will match nobody on the roster)
        ("ajs-next-1746603a1b2c3d4e5f6", utc(2026, 5, 6, 23, 30),
         "9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "Miro", "Board Opened", 3),
        # 01:30 at +02:00 is still the 6th in UTC; line 4 repeated line 1's messageId
        ("ajs-next-1746606a1b2c3d4e5f6", utc(2026, 5, 6, 23, 30),
         "bob@example.com", "Figma", "File Opened", 6),
    ]  # fmt: skip
    got = {locator: reason for locator, reason, _ in rejects(con) if locator.startswith(SEGMENT)}
    assert got == {
        # lines 2 and 5 (identify, page) are skipped, not quarantined
        f"{SEGMENT}:7": "missing required field: userId or anonymousId",
        f"{SEGMENT}:8": 'timestamp has no UTC offset: "2026-05-07T10:00:00"',
        f"{SEGMENT}:9": "missing required field: properties.tool",
    }


def test_segment_quarantine_keeps_mapped_fields_only(con, per_file):
    load_per_file(con, per_file)
    payloads = {locator: payload for locator, _, payload in rejects(con)}
    assert payloads[f"{SEGMENT}:7"] == (
        '{"timestamp":"2026-05-07T09:00:00.000Z","properties.tool":"Miro","event":"Board Opened",'
        '"messageId":"ajs-next-1746607a1b2c3d4e5f6"}'
    )
    stored = "\n".join(str(row) for row in con.execute("from raw.rejected_records").fetchall())
    for private in ("Gus Halvorsen", "Ann Lindqvist", "203.0.113.77", "@example.com"):
        assert private not in stored


def test_a_file_can_name_its_tool(con, per_file):
    stats = load_per_file(con, per_file)
    assert events(con, MIRO) == [
        ("m-1", utc(2026, 5, 7, 8, 0), "carol@example.com", "Miro", "board_viewed", 2),
        ("m-2", utc(2026, 5, 8, 0, 59, 59), "dave@example.com", "Miro", "board_edited", 3),
    ]
    assert [(loc, reason) for loc, reason, _ in rejects(con) if loc.startswith(MIRO)] == [
        (f"{MIRO}:4", "missing required field: Actor email")
    ]
    # the other files keep the [usage] defaults
    assert len(events(con, MARCH)) == 3
    assert (stats.rows_landed, stats.rows_rejected) == (3 + 2 + 3, 3 + 1 + 5)


def test_a_dotted_name_prefers_a_key_that_holds_the_dots(con, tmp_path):
    usage = tmp_path / "landing" / "usage"
    usage.mkdir(parents=True)
    (usage / "x.jsonl").write_text(
        '{"timestamp":"2026-06-01T10:00:00Z","user_email":"a@example.com","event":"e",'
        '"app.name":"Jira","app":{"name":"Figma"}}\n'
        '{"timestamp":"2026-06-01T10:00:00Z","user_email":"b@example.com","event":"e","app":{"name":"Figma"}}\n',
        encoding="utf-8",
    )
    load(con, tmp_path / "landing", mapping=UsageMapping(tool="app.name", event_id=None))
    assert [(e[2], e[3]) for e in events(con)] == [("a@example.com", "Jira"), ("b@example.com", "Figma")]


def test_usage_files_configuration_errors(tmp_path):
    config = tmp_path / "productops.toml"
    config.write_text('[[usage_files]]\nfiles = "a-*.jsonl"\ntool_column = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown keys \['tool_column'\]"):
        usage_file_mappings(config, UsageMapping())
    config.write_text('[[usage_files]]\ntool = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="needs files"):
        usage_file_mappings(config, UsageMapping())
    config.write_text('[[usage_files]]\nfiles = "a"\nuser_email = [1]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="user_email must be a field name"):
        usage_file_mappings(config, UsageMapping())
    assert usage_file_mappings(None, UsageMapping()) == []


def test_per_file_tables_leave_the_settings_loadable(tmp_path, per_file):
    settings = load_settings(
        {
            "PRODUCTOPS_CONFIG": str(tmp_path / "productops.toml"),
            "PRODUCTOPS_DEMO_DIR": str(tmp_path),
            "PRODUCTOPS_SALT": "usage-test-salt",
        }
    )
    assert settings.usage == UsageMapping()
    mappings = usage_file_mappings(settings.config_file, settings.usage)
    assert [m.files for m in mappings] == ["segment-*.jsonl*", "miro-audit-*.csv"]
    assert mappings[0].user_email == ("userId", "anonymousId")
    assert mappings[0].timestamp == ("timestamp",)  # from [usage]


def test_the_memory_limit_applies_while_loading_and_is_restored(con, landing, monkeypatch):
    seen = []
    original = usage_logs._land_file

    def spy(loader, *args):
        seen.append(loader.con.execute("select current_setting('memory_limit')").fetchall()[0][0])
        return original(loader, *args)

    monkeypatch.setattr(usage_logs, "_land_file", spy)
    setting = "select current_setting('memory_limit'), current_setting('preserve_insertion_order')"
    default = con.execute(setting).fetchall()
    load(con, landing)
    assert seen == ["953.6 MiB"] * 3  # 1 GB, as DuckDB prints it
    assert con.execute(setting).fetchall() == default
    con.execute("set memory_limit = '3GiB'")  # a limit of the caller's own
    load(con, landing)
    assert con.execute(setting).fetchall() == [("3.0 GiB", True)]


def test_a_large_file_loads_under_a_small_memory_limit(con, tmp_path):
    # 200 000 events, each with its own id, under 128 MB: what does not fit spills to disk
    usage = tmp_path / "landing" / "usage"
    usage.mkdir(parents=True)
    con.execute(
        """
        copy (
            select '2026-05-01T00:00:00Z'::varchar as timestamp,
                   'user' || (i % 97) || '@example.com' as user_email,
                   'Jira' as tool, 'issue_viewed' as event, 'ev-' || i as event_id
            from range(200000) r(i)
        ) to '{}' (format json)
        """.format(usage / "big.jsonl")
    )
    loader = RawLoader(con, "run-1")
    stats = land_usage_logs(con, loader, usage, UsageMapping(), memory_limit="128MB")
    assert (stats.rows_landed, stats.rows_rejected) == (200000, 0)


def test_the_usage_asset_reads_usage_files_from_the_configuration(tmp_path, per_file, monkeypatch):
    import dagster as dg

    from orchestration.defs.sources import source_assets
    from orchestration.resources import WarehouseResource

    landing, _ = per_file
    for name in (
        "JIRA_BASE_URL",
        "GITHUB_REPOS",
        "OKTA_ORG_URL",
        "LINEAR_API_KEY",
        "TYPEFORM_TOKEN",
        "DAGSTER_HOME",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PRODUCTOPS_DEMO_DIR", str(tmp_path / "no-demo"))
    monkeypatch.setenv("PRODUCTOPS_CONFIG", str(tmp_path / "productops.toml"))
    monkeypatch.setenv("PRODUCTOPS_LANDING_DIR", str(landing))
    monkeypatch.setenv("PRODUCTOPS_SALT", "usage-test-salt")
    monkeypatch.setenv("PRODUCTOPS_WAREHOUSE", str(tmp_path / "w.duckdb"))
    usage = next(a for a in source_assets if dg.AssetKey(["usage", "events"]) in a.keys)
    assert dg.materialize([usage], resources={"warehouse": WarehouseResource()}).success
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as c:
        assert c.execute(
            "select _source_file, count(*) from raw.usage_events group by 1 order by 1"
        ).fetchall() == [(MARCH, 3), (MIRO, 2), (SEGMENT, 3)]


def test_status_shows_tool_uses_by_identities_not_on_the_roster(tmp_path):
    """`productops status` reads marts.usage_unmatched_daily (built by dbt, tested in
    test_dbt_models.py) beside fct_tool_usage_daily, over the 30 days to the last day
    with any use (2024-03-21: 2024-02-21 on)."""
    from orchestration.status import read_unmatched_usage, render_unmatched_usage

    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        assert read_unmatched_usage(con) == {}  # no marts yet: nothing shown
        con.execute("create schema marts")
        con.execute(
            "create table marts.usage_unmatched_daily as select * from (values"
            " ('cursor', date '2024-03-06', 1, 2), ('cursor', date '2024-03-20', 3, 4),"
            " ('figma', date '2024-03-20', 1, 1),"
            " ('figma', date '2024-02-20', 9, 90))"  # 30 days before 03-21: outside
            " as t(tool_id, usage_date, unmatched_identities, unmatched_events)"
        )
        con.execute(
            "create table marts.fct_tool_usage_daily as select * from (values"
            " (date '2024-03-06', 10), (date '2024-03-19', 76), (date '2024-03-21', 7),"
            " (date '2024-02-01', 500))"
            " as t(usage_date, events)"
        )
        unmatched = read_unmatched_usage(con)
    # 2 + 4 + 1 = 7 unmatched uses beside 10 + 76 + 7 matched ones: 7 / 100
    assert (unmatched["last_day"], unmatched["events"], unmatched["share"]) == ("2024-03-21", 7, 0.07)
    assert [(t["tool_id"], t["events"], t["most_in_a_day"]) for t in unmatched["tools"]] == [
        ("cursor", 6, 3),
        ("figma", 1, 1),
    ]
    text = "\n".join(render_unmatched_usage(unmatched))
    assert "30 days to 2024-03-21" in text and "7 uses (7.0% of all)" in text
    assert "1 use by up to 1 identity a day" in text  # figma
    assert "6 uses by up to 3 identities a day" in text  # cursor
