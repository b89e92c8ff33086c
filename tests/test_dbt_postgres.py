"""The dbt project on a real PostgreSQL server builds the same marts as on DuckDB.

The session's demo run (`published_demo`) built every mart on DuckDB from its raw layer.
Here that raw layer is shipped to a fresh Postgres database with `ship_raw` (COPY), the
same dbt project is built there with `dbt build --target postgres` (seeds, models, data
tests), and every table of schema `marts` is compared with DuckDB's: same row count and
the same values, floats within 1e-9 relative, after ordering rows by all their columns.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import uuid
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg
import pytest

from ingestion.config import load_settings
from ingestion.destinations.postgres import ShipError, ship_raw
from orchestration.dbt_setup import DBT_PROJECT_DIR, dbt_env, demo_as_of_date, postgres_dbt_env
from tests.conftest import REPO

REL_TOLERANCE = 1e-9


def _dbt() -> str:
    return str(Path(sys.executable).with_name("dbt"))


def _query(url: str, sql: str, *params: object) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def _normal(value: object) -> object:
    """One comparable form per value: instants in UTC, decimals as floats."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.timestamp()
    return value


def _sort_key(row: tuple) -> tuple:
    # floats rounded for ordering only, so two engines' last bits never swap rows
    return tuple(
        (0, "") if value is None else (1, round(value, 6) if isinstance(value, float) else value)
        for value in row
    )


def _same(left: object, right: object) -> bool:
    if isinstance(left, float) or isinstance(right, float):
        if left is None or right is None:
            return False
        if math.isnan(left) and math.isnan(right):
            return True
        return math.isclose(left, right, rel_tol=REL_TOLERANCE, abs_tol=1e-12)
    return left == right


def _rows(fetched: list[tuple]) -> list[tuple]:
    return sorted((tuple(_normal(v) for v in row) for row in fetched), key=_sort_key)


@pytest.fixture(scope="module")
def postgres_marts(published_demo, postgres_cluster, tmp_path_factory):
    """The demo's raw layer shipped to a new database and built there with dbt."""
    url = postgres_cluster.create_database(f"marts_{uuid.uuid4().hex[:12]}")
    staging = duckdb.connect(str(published_demo.warehouse), read_only=True)
    try:
        shipped = ship_raw(staging, url)
        staged_counts = {
            table: staging.execute(f'select count(*) from raw."{table}"').fetchall()[0][0]
            for table in shipped
        }
    finally:
        staging.close()
    assert shipped == staged_counts

    # the same salt, as-of date, seeds and threshold the demo run gave dbt on DuckDB; the
    # demo's date read from the demo itself: dbt_env leaves it out when this process's
    # environment holds a PRODUCTOPS_AS_OF (an in-process run of another module sets one)
    settings = load_settings(published_demo.env)
    duckdb_env = dbt_env(settings)
    work_dir = tmp_path_factory.mktemp("dbt_postgres")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PRODUCTOPS_")},
        **postgres_dbt_env(url, duckdb_env["PRODUCTOPS_SALT"], demo_as_of_date(settings)),
        "PRODUCTOPS_SEEDS_DIR": duckdb_env["PRODUCTOPS_SEEDS_DIR"],
        "PRODUCTOPS_ANONYMITY_THRESHOLD": duckdb_env["PRODUCTOPS_ANONYMITY_THRESHOLD"],
        "DO_NOT_TRACK": "1",
    }
    result = subprocess.run(
        [
            _dbt(),
            "build",
            "--target",
            "postgres",
            "--exclude-resource-type",
            "unit_test",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(work_dir / "target"),
            "--log-path",
            str(work_dir / "logs"),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-4000:]
    return url, work_dir, duckdb_env["PRODUCTOPS_SALT"]


def test_every_mart_on_postgres_equals_duckdb(postgres_marts, published_demo):
    url, _, _ = postgres_marts
    duck = duckdb.connect(str(published_demo.warehouse), read_only=True)
    try:
        duck_marts = sorted(
            name
            for (name,) in duck.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'marts' and table_type = 'BASE TABLE'"
            ).fetchall()
        )
        pg_marts = sorted(
            name
            for (name,) in _query(
                url,
                "select table_name from information_schema.tables "
                "where table_schema = 'marts' and table_type = 'BASE TABLE'",
            )
        )
        assert pg_marts == duck_marts
        assert len(duck_marts) >= 20

        differences = []
        for mart in duck_marts:
            columns = [
                name
                for (name,) in duck.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = 'marts' and table_name = ? order by ordinal_position",
                    [mart],
                ).fetchall()
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            duck_rows = _rows(duck.execute(f'select {select} from marts."{mart}"').fetchall())
            pg_rows = _rows(_query(url, f'select {select} from marts."{mart}"'))
            if len(duck_rows) != len(pg_rows):
                differences.append(f"{mart}: {len(duck_rows)} rows on DuckDB, {len(pg_rows)} on Postgres")
                continue
            assert duck_rows, f"{mart} is empty on the demo: the comparison would prove nothing"
            for duck_row, pg_row in zip(duck_rows, pg_rows, strict=True):
                unequal = [
                    f"{column}: {d!r} != {p!r}"
                    for column, d, p in zip(columns, duck_row, pg_row, strict=True)
                    if not _same(d, p)
                ]
                if unequal:
                    differences.append(f"{mart} row {duck_row[:3]}…: " + "; ".join(unequal[:4]))
                    break
        assert not differences, "\n".join(differences)
    finally:
        duck.close()


def test_the_salt_never_reaches_compiled_sql_or_logs(postgres_marts):
    _, work_dir, salt = postgres_marts
    assert len(salt) >= 8
    for path in work_dir.rglob("*"):
        if path.is_file() and path.suffix in {".sql", ".json", ".log", ".txt"}:
            assert salt not in path.read_text(errors="replace"), path


def test_people_are_pseudonymised_with_the_session_salt(postgres_marts, published_demo):
    url, _, _ = postgres_marts
    emails = [email for (email,) in _query(url, "select email from seeds.roster order by email limit 3")]
    salt = dbt_env(load_settings(published_demo.env))["PRODUCTOPS_SALT"]
    expected = {
        duckdb.sql("select md5(? || lower(trim(?)))", params=[salt, email]).fetchall()[0][0]
        for email in emails
    }
    ids = {person_id for (person_id,) in _query(url, "select person_id from marts.dim_people")}
    assert expected <= ids


def _raw_layer(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    con.execute("create schema raw")
    con.execute(
        "create table raw.things (id varchar primary key, n bigint, x double, seen_at timestamptz, "
        "doc json, flag boolean, day date)"
    )
    con.execute(
        "insert into raw.things values "
        "('a', 1, 0.1::double + 0.2::double, '2024-03-31 01:30:00+01', "
        '\'{"k": "a,\\"b"}\', true, \'2024-01-02\'),'
        "('', null, null, null, null, null, null),"
        "('multi\nline', -9007199254740993, 1e300, '2024-10-27 02:30:00.123456+00', 'null', false, null)"
    )
    con.execute("create table raw.pairs (a varchar, b integer, primary key (a, b))")
    con.execute("insert into raw.pairs values ('x', 1), ('x', 2)")
    # de-duplicated by the loader, not by a key (raw_tables.DEDUPE_KEYS): ships without one
    con.execute("create table raw.logged (k varchar not null)")
    con.execute("insert into raw.logged values ('a'), ('b')")
    return con


def test_ship_raw_copies_types_keys_and_values_exactly_and_is_idempotent(postgres_cluster, tmp_path):
    url = postgres_cluster.create_database(f"ship_{uuid.uuid4().hex[:12]}")
    con = _raw_layer(tmp_path / "staging.duckdb")
    assert ship_raw(con, url) == {"logged": 2, "pairs": 2, "things": 3}
    first = _query(url, "select id, n, x, seen_at, doc, flag, day from raw.things order by id")
    assert ship_raw(con, url) == {"logged": 2, "pairs": 2, "things": 3}  # re-ship: same state, no duplicates
    assert _query(url, "select id, n, x, seen_at, doc, flag, day from raw.things order by id") == first

    by_id = {row[0]: row for row in first}
    assert by_id[""][1:] == (None, None, None, None, None, None)  # '' stays '', NULL stays NULL
    assert by_id["a"][2] == 0.1 + 0.2  # floats round-trip bit for bit
    assert by_id["a"][3] == datetime.fromisoformat("2024-03-31T00:30:00+00:00")
    assert by_id["a"][4] == {"k": 'a,"b'}
    assert by_id["multi\nline"][1] == -9007199254740993
    assert by_id["multi\nline"][3].microsecond == 123456
    assert by_id["a"][6] == date(2024, 1, 2)
    types = dict(
        _query(
            url,
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw' and table_name = 'things'",
        )
    )
    assert types["doc"] == "jsonb" and types["seen_at"] == "timestamp with time zone"
    assert types["x"] == "double precision" and types["n"] == "bigint"
    keys = _query(
        url,
        "select kcu.table_name, kcu.column_name from information_schema.table_constraints tc "
        "join information_schema.key_column_usage kcu using (constraint_schema, constraint_name) "
        "where tc.table_schema = 'raw' and tc.constraint_type = 'PRIMARY KEY' "
        "order by kcu.table_name, kcu.ordinal_position",
    )
    assert keys == [("pairs", "a"), ("pairs", "b"), ("things", "id")]  # raw.logged: none
    assert _query(url, "select k from raw.logged order by k") == [("a",), ("b",)]

    # rows gone from staging are gone from the server
    con.execute("delete from raw.things where id = 'a'")
    assert ship_raw(con, url, tables=["things"]) == {"things": 2}
    assert [r[0] for r in _query(url, "select id from raw.things order by id")] == ["", "multi\nline"]


def test_a_failed_ship_leaves_the_server_as_it_was(postgres_cluster, tmp_path):
    url = postgres_cluster.create_database(f"ship_{uuid.uuid4().hex[:12]}")
    con = _raw_layer(tmp_path / "staging.duckdb")
    ship_raw(con, url)
    before = _query(url, "select id, n from raw.things order by id")

    # the second table's COPY fails (a duplicate key); the first was already replaced in the transaction
    con.execute("delete from raw.things where id = ''")
    con.execute("create table raw.zzz (id integer primary key)")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create table raw.zzz (id integer primary key)")
        conn.execute(
            "create function raw.refuse() returns trigger language plpgsql as "
            "$$ begin raise exception 'refused'; end $$"
        )
        conn.execute(
            "create trigger refuse before insert on raw.zzz for each row execute function raw.refuse()"
        )
    con.execute("insert into raw.zzz values (1)")
    with pytest.raises(psycopg.Error, match="refused"):
        ship_raw(con, url)
    assert _query(url, "select id, n from raw.things order by id") == before
    assert _query(url, "select count(*) from raw.zzz") == [(0,)]


def test_unknown_tables_and_types_are_named(postgres_cluster, tmp_path):
    url = postgres_cluster.create_database(f"ship_{uuid.uuid4().hex[:12]}")
    con = _raw_layer(tmp_path / "staging.duckdb")
    with pytest.raises(ShipError, match="nope"):
        ship_raw(con, url, tables=["nope"])
    con.execute("create table raw.listy (ids varchar[])")
    with pytest.raises(ShipError, match=r"raw\.listy\.ids.*VARCHAR\[\]"):
        ship_raw(con, url)
    assert _query(url, "select count(*) from information_schema.schemata where schema_name = 'raw'") == [(0,)]


def test_postgres_dbt_env_keeps_the_password_and_salt_out_of_plain_variables():
    env = postgres_dbt_env("postgresql://ana:s3cret%20pw@db.example:6543/warehouse?sslmode=require", "a b\\c")
    assert env["PRODUCTOPS_PG_HOST"] == "db.example"
    assert env["PRODUCTOPS_PG_PORT"] == "6543"
    assert env["PRODUCTOPS_PG_USER"] == "ana"
    assert env["PRODUCTOPS_PG_DATABASE"] == "warehouse"
    assert env["PRODUCTOPS_PG_SSLMODE"] == "require"
    assert env["DBT_ENV_SECRET_PRODUCTOPS_PG_PASSWORD"] == "s3cret pw"
    assert env["PGOPTIONS"] == "-c TimeZone=UTC -c productops.salt=a\\ b\\\\c"
    assert all("s3cret" not in value for key, value in env.items() if not key.startswith("DBT_ENV_SECRET_"))
