"""The same pipeline on each engine: settings, the Postgres publish (schema swap), readers.

PostgreSQL is a real server (fixtures `postgres_cluster` / `postgres_url`); each test
makes its own database.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import math
import shutil
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import psycopg
import pytest

from dashboard.data import ORG, PublishedMarts
from dashboard.model import Filters, add_months, available_months, default_end, teams
from dashboard.views import PAGES, data_health
from ingestion.config import ConfigError, load_settings
from ingestion.destinations.spark import current_raw_version
from orchestration import published
from orchestration.notify.deliver import digest_notifications, read_alerts
from orchestration.published import PublishedSource, to_pyformat
from orchestration.publishing_postgres import (
    OLD_PREFIX,
    PUBLISHED_SCHEMA,
    PublishError,
    publish_schema,
)
from orchestration.publishing_spark import current_snapshot
from orchestration.query import published_connection
from orchestration.scorecard import load_scorecard, render_scorecard
from tests.conftest import REPO, demo_run_env

# Three marts whose row counts tell the set apart.
OLD_SET = {"a_mart": 300, "b_mart": 500, "c_mart": 700}
NEW_SET = {"a_mart": 400, "b_mart": 600, "c_mart": 800}


@pytest.fixture
def pg_database(postgres_cluster) -> str:
    return postgres_cluster.create_database(f"t_{uuid.uuid4().hex[:10]}")


def _execute(url: str, *statements: str) -> list[tuple]:
    con = psycopg.connect(url)
    try:
        con.autocommit = True
        with con.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
            return cur.fetchall() if cur.description else []
    finally:
        con.close()


def _build_marts(url: str, rows: dict[str, int]) -> None:
    """Schema marts as dbt leaves it: tables with comments on the table and its columns."""
    statements = ["drop schema if exists marts cascade", "create schema marts"]
    for table, count in rows.items():
        statements += [
            f"create table marts.{table} (id integer not null, value double precision)",
            f"insert into marts.{table} select g, g / 3.0 from generate_series(1, {count}) as g",
            f"comment on table marts.{table} is 'The {table}, one row per id.'",
            f"comment on column marts.{table}.id is 'Row id.'",
        ]
    _execute(url, *statements)


def _published_counts(url: str) -> dict[str, int]:
    tables = [
        r[0]
        for r in _execute(url, f"select tablename from pg_tables where schemaname = '{PUBLISHED_SCHEMA}'")
    ]
    return {t: _execute(url, f"select count(*) from {PUBLISHED_SCHEMA}.{t}")[0][0] for t in sorted(tables)}


def _source(url: str) -> PublishedSource:
    settings = load_settings({"PRODUCTOPS_ENGINE": "postgres", "PRODUCTOPS_POSTGRES_URL": url})
    return PublishedSource.of(settings)


# -- settings ----------------------------------------------------------------------------


def test_engine_defaults_to_duckdb_and_postgres_needs_a_url():
    assert load_settings({}).engine.name == "duckdb"
    with pytest.raises(ConfigError, match="PRODUCTOPS_POSTGRES_URL"):
        load_settings({"PRODUCTOPS_ENGINE": "postgres"})
    with pytest.raises(ConfigError, match=r"PRODUCTOPS_ENGINE.*'oracle'"):
        load_settings({"PRODUCTOPS_ENGINE": "oracle"})


def test_the_postgres_url_is_a_secret_even_in_errors():
    secret = "s3cr3t-pw"
    settings = load_settings(
        {"PRODUCTOPS_ENGINE": "postgres", "PRODUCTOPS_POSTGRES_URL": f"postgresql://bi:{secret}@db:5432/ops"}
    )
    assert secret not in repr(settings) and secret not in settings.engine.where
    assert settings.engine.where == "postgres (postgresql://****@db:5432/ops)"
    for bad in (f"mysql://bi:{secret}@db/ops", f"postgresql://bi:{secret}@db:port/ops"):
        with pytest.raises(ConfigError) as raised:
            load_settings({"PRODUCTOPS_ENGINE": "postgres", "PRODUCTOPS_POSTGRES_URL": bad})
        assert secret not in str(raised.value) and "PRODUCTOPS_POSTGRES_URL" in str(raised.value)


def test_question_marks_become_psycopg_placeholders_outside_quotes():
    sql = "select '?' as q, \"a?\" from t where x = ? and y like '%z' and p % 2 = ?"
    assert to_pyformat(sql) == "select '?' as q, \"a?\" from t where x = %s and y like '%z' and p %% 2 = %s"


# -- publish on PostgreSQL ----------------------------------------------------------------


def test_publish_swaps_in_every_mart_with_its_descriptions(pg_database):
    _build_marts(pg_database, OLD_SET)
    first = publish_schema(pg_database)
    assert first.rows == OLD_SET and _published_counts(pg_database) == OLD_SET
    _build_marts(pg_database, NEW_SET)
    second = publish_schema(pg_database)
    assert second.rows == NEW_SET and second.dropped_old
    assert _published_counts(pg_database) == NEW_SET
    comments = _execute(
        pg_database,
        "select obj_description('published.b_mart'::regclass, 'pg_class'),"
        " col_description('published.b_mart'::regclass, 1)",
    )
    assert comments == [("The b_mart, one row per id.", "Row id.")]
    # Nothing left of the swap: no new or old schema beside `published`.
    schemas = _execute(pg_database, "select nspname from pg_namespace where nspname like 'published%'")
    assert schemas == [("published",)]
    # Readers through the engine-neutral door see the new set, typed as DuckDB would give it.
    source = _source(pg_database)
    assert published.row_counts(source) == NEW_SET
    frame = published.frame(source, "select id, value from b_mart where id <= ? order by id", [3])
    assert frame["value"].tolist() == pytest.approx([1 / 3, 2 / 3, 1.0], rel=1e-12)


def test_readers_keep_their_grants_across_publishes(pg_database):
    _build_marts(pg_database, OLD_SET)
    publish_schema(pg_database)
    _execute(
        pg_database,
        "create role bi_reader login",
        "grant usage on schema published to bi_reader",
        "grant select on all tables in schema published to bi_reader",
    )
    _build_marts(pg_database, NEW_SET)
    publish_schema(pg_database)
    reader_url = pg_database.replace("postgres@", "bi_reader@")
    assert _published_counts(reader_url) == NEW_SET


def test_a_reader_during_publishes_sees_the_old_set_or_the_new_one_never_a_mix(pg_database):
    """Readers loop over every published table (one statement each time) while the marts are
    published again and again: each answer is the old set's counts or the new set's."""
    _build_marts(pg_database, OLD_SET)
    publish_schema(pg_database)
    names = sorted(OLD_SET)
    counts_sql = "select " + ", ".join(f"(select count(*) from {t}) as {t}" for t in names)
    states = {tuple(OLD_SET[t] for t in names): "old", tuple(NEW_SET[t] for t in names): "new"}
    source = _source(pg_database)
    stop = threading.Event()
    seen: list[str] = []
    errors: list[str] = []

    def read() -> None:
        while not stop.is_set():
            try:
                with published.connect(source) as con:
                    row = tuple(con.execute(counts_sql).fetchall()[0])
                    # A second statement in the same transaction: each table separately.
                    single = tuple(con.execute(f"select count(*) from {t}").fetchall()[0][0] for t in names)
                seen.append(states.get(row, f"partial {row}"))
                if single not in states:
                    errors.append(f"partial (one table at a time) {single}")
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")

    readers = [threading.Thread(target=read) for _ in range(3)]
    for thread in readers:
        thread.start()
    try:
        for round_ in range(6):
            time.sleep(0.2)
            _build_marts(pg_database, NEW_SET if round_ % 2 == 0 else OLD_SET)
            publish_schema(pg_database)
        time.sleep(0.2)
    finally:
        stop.set()
        for thread in readers:
            thread.join(timeout=30)
    assert not errors, errors[:5]
    assert set(seen) == {"old", "new"}, set(seen)
    assert len(seen) > 20


def test_a_long_reader_makes_the_publish_give_up_not_hang(pg_database):
    _build_marts(pg_database, OLD_SET)
    publish_schema(pg_database)
    _build_marts(pg_database, NEW_SET)
    reader = psycopg.connect(pg_database)
    try:
        with reader.cursor() as cur:  # a transaction that keeps reading the published marts
            cur.execute("select count(*) from published.a_mart")
        pauses: list[float] = []
        began = time.monotonic()
        with pytest.raises(PublishError, match="readers keep the previous marts"):
            publish_schema(pg_database, attempts=3, sleep=pauses.append)
        assert time.monotonic() - began < 15
        assert len(pauses) == 2 and pauses[1] > pauses[0]
        # Readers still see the old set, complete; nothing of the failed publish is left.
        assert _published_counts(pg_database) == OLD_SET
        assert _execute(
            pg_database, "select count(*) from pg_namespace where nspname like 'published_%'"
        ) == [(0,)]
    finally:
        reader.close()
    assert publish_schema(pg_database).rows == NEW_SET


def test_an_old_set_a_reader_still_holds_is_left_for_the_next_publish(pg_database):
    _build_marts(pg_database, OLD_SET)
    publish_schema(pg_database)
    # An old set from an earlier publish that a long reader is still reading.
    leftover = f"{OLD_PREFIX}earlier"
    _execute(pg_database, f"create schema {leftover}", f"create table {leftover}.a_mart (id integer)")
    reader = psycopg.connect(pg_database)
    try:
        with reader.cursor() as cur:
            cur.execute(f"select count(*) from {leftover}.a_mart")
        _build_marts(pg_database, NEW_SET)
        assert publish_schema(pg_database).rows == NEW_SET  # the reader does not stop the publish
        assert _execute(pg_database, f"select count(*) from pg_namespace where nspname = '{leftover}'") == [
            (1,)
        ]
    finally:
        reader.close()
    publish_schema(pg_database)
    assert _execute(pg_database, "select nspname from pg_namespace where nspname like 'published%'") == [
        ("published",)
    ]


# -- the demo on each engine ----------------------------------------------------------------
# One demo run per engine and test session, shared by the tests below.


@dataclass(frozen=True)
class EngineRun:
    engine: str
    root: Path
    env: dict[str, str]
    database: str | None  # postgres: the run's database (its URL)
    seconds: float


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )


@pytest.fixture(scope="session")
def postgres_demo(tmp_path_factory, demo_org, postgres_cluster) -> EngineRun:
    """`productops run --engine postgres` on the demo, once per test session."""
    root = tmp_path_factory.mktemp("postgres_demo")
    url = postgres_cluster.create_database("demo_run")
    env = demo_run_env(root, demo_org, PRODUCTOPS_POSTGRES_URL=url)
    began = time.monotonic()
    proc = run_cli(env, "--engine", "postgres")
    assert proc.returncode == 0, proc.stderr[-4000:]
    return EngineRun("postgres", root, env, url, time.monotonic() - began)


@pytest.fixture(scope="session")
def spark_demo(tmp_path_factory, demo_org) -> EngineRun:
    """`productops run --engine spark` on the demo (local pyspark), once per test session."""
    root = tmp_path_factory.mktemp("spark_demo")
    env = demo_run_env(root, demo_org)
    began = time.monotonic()
    proc = run_cli(env, "--engine", "spark")
    assert proc.returncode == 0, proc.stderr[-4000:]
    return EngineRun("spark", root, env, None, time.monotonic() - began)


def _engine_marts(request, engine: str) -> dict[str, pd.DataFrame]:
    """Every published mart of the engine's demo run (each engine adds its reader here)."""
    if engine == "postgres":
        run: EngineRun = request.getfixturevalue("postgres_demo")
        source = _source(run.database)
        return {t: published.frame(source, f'select * from "{t}"') for t in published.row_counts(source)}
    if engine == "spark":  # published where DuckDB's are: readers open the same files
        run = request.getfixturevalue("spark_demo")
        source = PublishedSource(Path(run.env["PRODUCTOPS_PUBLISHED"]))
        return {t: published.frame(source, f'select * from "{t}"') for t in published.row_counts(source)}
    raise AssertionError(f"no reader for engine {engine}")


# Bookkeeping that records when this run landed the rows: differs from run to run by nature.
RUN_TIME_COLUMNS = {"_loaded_at"}


def _duckdb_marts(published_demo) -> dict[str, pd.DataFrame]:
    source = PublishedSource(published_demo.published)
    return {t: published.frame(source, f'select * from "{t}"') for t in published.row_counts(source)}


def _cell(value):
    """One value in a form both engines agree on: numbers as float, times as naive UTC."""
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, decimal.Decimal | int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, pd.Timestamp | dt.datetime):
        stamp = pd.Timestamp(value)
        return (stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp).to_pydatetime()
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return _cell(value.tolist()) if not isinstance(value.tolist(), list) else tuple(value.tolist())
    if isinstance(value, list):
        return tuple(value)
    return value


def _sort_key(value) -> str:
    value = _cell(value)
    return "" if value is None else (f"{value:.9g}" if isinstance(value, float) else str(value))


def _rows(frame: pd.DataFrame) -> list[tuple]:
    columns = sorted(set(frame.columns) - RUN_TIME_COLUMNS)
    rows = [tuple(_cell(v) for v in row) for row in frame[columns].itertuples(index=False)]
    return sorted(rows, key=lambda row: tuple(_sort_key(v) for v in row))


def _same(left, right) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        return math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-12)
    return left == right


def _same_rows(want: list[tuple], got: list[tuple]) -> bool:
    return len(want) == len(got) and all(
        len(w) == len(g) and all(_same(a, b) for a, b in zip(w, g, strict=True))
        for w, g in zip(want, got, strict=True)
    )


@pytest.mark.e2e
@pytest.mark.parametrize("engine", ["postgres", "spark"])
def test_every_mart_on_the_engine_equals_duckdbs(request, engine, published_demo):
    expected = _duckdb_marts(published_demo)
    actual = _engine_marts(request, engine)
    assert sorted(actual) == sorted(expected)
    for table, frame in expected.items():
        other = actual[table]
        assert sorted(other.columns) == sorted(frame.columns), table
        assert len(other) == len(frame), f"{table}: {len(other)} rows on {engine}, {len(frame)} on duckdb"
        for want, got in zip(_rows(frame), _rows(other), strict=True):
            assert all(_same(a, b) for a, b in zip(want, got, strict=True)), (
                f"{table} on {engine} differs:\n  duckdb {want}\n  {engine} {got}"
            )


def _postgres_fingerprint(url: str) -> dict[str, str]:
    """Schema published and raw, table by table: the schema's oid, row count and content digest."""
    tables = _execute(
        url,
        "select schemaname, tablename from pg_tables where schemaname in ('published', 'raw') order by 1, 2",
    )
    found = {"published oid": str(_execute(url, "select 'published'::regnamespace::oid")[0][0])}
    for schema, table in tables:
        digest = _execute(
            url, f"select count(*), md5(string_agg(t::text, '|' order by t::text)) from {schema}.{table} as t"
        )[0]
        found[f"{schema}.{table}"] = f"{digest[0]} {digest[1]}"
    return found


@pytest.mark.e2e
def test_a_bad_batch_on_postgres_stops_before_dbt_and_leaves_published_unchanged(
    postgres_demo, postgres_cluster, tmp_path
):
    # A copy of the good run: its database (as a template), warehouse and demo organisation.
    url = postgres_cluster.create_database_from(f"bad_{uuid.uuid4().hex[:8]}", "demo_run")
    demo = tmp_path / "demo"
    shutil.copytree(Path(postgres_demo.env["PRODUCTOPS_DEMO_DIR"]), demo)
    shutil.copytree(Path(postgres_demo.env["PRODUCTOPS_WAREHOUSE"]).parent, tmp_path / "warehouse")
    env = demo_run_env(tmp_path, demo, PRODUCTOPS_POSTGRES_URL=url, PRODUCTOPS_ENGINE="postgres")
    # Duplicate issue keys in one Jira page (as in tests/test_gates_pipeline.py).
    page = demo / "api" / "jira" / "pages" / "search-0001.json"
    body = json.loads(page.read_text())
    body["issues"][1]["key"] = body["issues"][0]["key"]
    page.write_text(json.dumps(body))
    before = _postgres_fingerprint(url)
    assert any(key.startswith("published.") for key in before)

    proc = run_cli(env)

    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "GATE FAILED jira/issues · batch_expectations: raw.jira_issues" in proc.stderr
    not_run = "engine__raw_shipped, notifications__kpi_alerts_sent, productops_dbt, published__productops"
    assert "NOT RUN because of the failures above: " + not_run in proc.stderr
    assert "Published marts left unchanged: schema published on postgresql://****@127.0.0.1" in proc.stderr
    # Nothing reached the engine: raw and published are as they were, table by table.
    assert _postgres_fingerprint(url) == before


@pytest.mark.e2e
def test_a_run_with_nothing_new_on_postgres_ships_nothing(postgres_demo, postgres_cluster, tmp_path):
    url = postgres_cluster.create_database_from(f"same_{uuid.uuid4().hex[:8]}", "demo_run")
    demo = tmp_path / "demo"
    shutil.copytree(Path(postgres_demo.env["PRODUCTOPS_DEMO_DIR"]), demo)
    shutil.copytree(Path(postgres_demo.env["PRODUCTOPS_WAREHOUSE"]).parent, tmp_path / "warehouse")
    env = demo_run_env(tmp_path, demo, PRODUCTOPS_POSTGRES_URL=url, PRODUCTOPS_ENGINE="postgres")
    # Another database is another engine to the fingerprint: the first run ships and builds.
    first = run_cli(env)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "[ship] raw layer to postgres" in first.stderr
    tables = (
        "select c.oid from pg_class as c"
        " where c.relnamespace in ('raw'::regnamespace, 'published'::regnamespace)"
    )
    before = _postgres_fingerprint(url), sorted(_execute(url, tables))

    second = run_cli(env)

    assert second.returncode == 0, second.stderr[-3000:]
    assert "[ship] nothing new: no raw row, seed, dbt model, setting or as-of date changed" in second.stderr
    assert "[ship] raw layer to" not in second.stderr
    # Not one raw or published table replaced (a ship and a publish make new ones).
    assert (_postgres_fingerprint(url), sorted(_execute(url, tables))) == before


def _folder_fingerprint(folder: Path) -> dict[str, str]:
    """Every file and link under a folder: a link by where it points, a file by its digest."""
    found = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.is_symlink():
            found[name] = "-> " + str(path.readlink())
        elif path.is_file():
            found[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.mark.e2e
def test_the_spark_snapshot_and_the_reader_files_hold_the_same_marts(spark_demo):
    """Spark's own snapshot (a versioned Parquet folder per mart) and the files readers open
    (the DuckDB file, one Parquet per mart beside it) come from one publish."""
    settings = load_settings(spark_demo.env)
    snapshot = current_snapshot(settings.spark_dir)
    assert snapshot is not None and snapshot.parent.name == "versions"
    counts = published.row_counts(PublishedSource(settings.published))
    assert counts and counts["fct_work_items"] > 0
    with duckdb.connect() as con:
        for table, rows in counts.items():
            in_snapshot = con.execute(f"select count(*) from '{snapshot / table}/*.parquet'").fetchall()[0][0]
            beside = con.execute(f"select count(*) from '{settings.published.parent / table}.parquet'")
            assert (in_snapshot, beside.fetchall()[0][0]) == (rows, rows), table
    # The raw layer Spark read is the shipped version `current` points at, every raw table in it.
    raw = current_raw_version(settings.spark_dir)
    assert raw is not None and {"jira_issues", "usage_events"} <= {p.name for p in raw.iterdir()}


@pytest.mark.e2e
def test_a_bad_batch_on_spark_stops_before_dbt_and_leaves_published_unchanged(spark_demo, tmp_path):
    # A copy of the good run: its warehouse (raw Parquet, metastore, published files) and demo.
    demo = tmp_path / "demo"
    shutil.copytree(Path(spark_demo.env["PRODUCTOPS_DEMO_DIR"]), demo)
    warehouse = tmp_path / "warehouse"
    shutil.copytree(Path(spark_demo.env["PRODUCTOPS_WAREHOUSE"]).parent, warehouse, symlinks=True)
    env = demo_run_env(tmp_path, demo, PRODUCTOPS_ENGINE="spark")
    page = demo / "api" / "jira" / "pages" / "search-0001.json"
    body = json.loads(page.read_text())
    body["issues"][1]["key"] = body["issues"][0]["key"]
    page.write_text(json.dumps(body))
    spark_dir = load_settings(env).spark_dir
    published_dir = Path(env["PRODUCTOPS_PUBLISHED"]).parent
    before = (_folder_fingerprint(published_dir), _folder_fingerprint(spark_dir / "raw"))
    assert any(name.endswith(".parquet") for name in before[0]) and "current" in before[1]

    proc = run_cli(env)

    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "GATE FAILED jira/issues · batch_expectations: raw.jira_issues" in proc.stderr
    not_run = "engine__raw_shipped, notifications__kpi_alerts_sent, productops_dbt, published__productops"
    assert "NOT RUN because of the failures above: " + not_run in proc.stderr
    assert f"Published marts left unchanged: {env['PRODUCTOPS_PUBLISHED']}" in proc.stderr
    # Nothing was shipped (the raw version Spark reads is the same) and nothing published.
    assert (_folder_fingerprint(published_dir), _folder_fingerprint(spark_dir / "raw")) == before


def _pages(marts: PublishedMarts, team_id: str) -> dict[str, tuple]:
    """Every dashboard page for one team over the last six months: its tiles, and its tables."""
    names = teams(marts)
    months = available_months(marts)
    end = default_end(marts, months)
    filters = Filters(team_id, names[team_id], add_months(end, -5), end)
    pages = {}
    for module in PAGES:
        if module is data_health:  # the run record beside the file, not the marts
            continue
        page = module.build(marts, filters)
        tiles = [(t.label, t.value, t.delta, t.beside, t.status, t.target) for t in page.tiles]
        tables = {t.title: _rows(t.frame) for t in page.tables}
        charts = sorted(c.key for c in page.charts)
        pages[module.TITLE] = (tiles, tables, charts)
    return pages


@pytest.mark.e2e
def test_the_dashboard_and_the_cli_read_the_postgres_marts_as_they_read_duckdbs(
    postgres_demo, published_demo, tmp_path
):
    """Every dashboard query, the scorecard and the digest run on PostgreSQL and say what they
    say on DuckDB, and `productops report` writes its file from schema published."""
    settings = load_settings({**postgres_demo.env, "PRODUCTOPS_ENGINE": "postgres"})
    on_postgres = PublishedMarts.of(settings)
    on_duckdb = PublishedMarts(published_demo.published)
    team = min(t for t in teams(on_duckdb) if t != ORG)
    for team_id in (team, ORG):
        expected, actual = _pages(on_duckdb, team_id), _pages(on_postgres, team_id)
        assert actual.keys() == expected.keys()
        for title, (tiles, tables, charts) in expected.items():
            assert actual[title][0] == tiles and actual[title][2] == charts, title
            assert actual[title][1].keys() == tables.keys(), title
            for name, rows in tables.items():
                assert _same_rows(rows, actual[title][1][name]), f"{title} · {name} ({team_id})"

    with published_connection(PublishedSource.of(settings), settings.warehouse) as con:
        card_pg = render_scorecard(load_scorecard(con, team, None, today=dt.date(2026, 11, 20)))
    with published_connection(published_demo.published, published_demo.warehouse) as con:
        card_duck = render_scorecard(load_scorecard(con, team, None, today=dt.date(2026, 11, 20)))
    assert card_pg == card_duck
    today = dt.date(2026, 11, 23)
    assert digest_notifications(PublishedSource.of(settings), today) == digest_notifications(
        published_demo.published, today
    )
    assert read_alerts(PublishedSource.of(settings)) == read_alerts(published_demo.published)

    env = {**postgres_demo.env, "PRODUCTOPS_ENGINE": "postgres"}
    report = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "report", "--out", str(tmp_path / "r.html")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert report.returncode == 0, report.stderr
    assert "schema published on postgresql://****@127.0.0.1" in (tmp_path / "r.html").read_text()
