"""The published marts as readers nobody on this project wrote see them, on one demo run:
the DuckDB CLI at its newest 1.x (PyPI's duckdb-cli), SQLAlchemy with duckdb-engine, and
pandas with pyarrow on the Parquet files. Each is pinned in the dev extra."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import sqlalchemy
import yaml

from orchestration.publishing import PARQUET_COLUMN_DESCRIPTIONS_KEY, PARQUET_DESCRIPTION_KEY
from tests.test_cli import MARTS, _readme_kpi_queries

REPO = Path(__file__).resolve().parent.parent
DUCKDB_CLI = Path(sys.executable).with_name("duckdb")  # the duckdb-cli package's entry point
MARTS_DIR = REPO / "dbt_project" / "models" / "marts"


def dbt_descriptions() -> dict[str, tuple[str, dict[str, str]]]:
    """Each mart's description and column descriptions as written in the dbt YAML."""
    models = [
        model
        for path in sorted(MARTS_DIR.glob("*.yml"))
        for model in (yaml.safe_load(path.read_text()) or {}).get("models", [])
    ]
    return {
        model["name"]: (
            _words(model["description"]),
            {column["name"]: _words(column["description"]) for column in model["columns"]},
        )
        for model in models
    }


def _words(text: str) -> str:
    return " ".join(text.split())


def duckdb_cli(database: Path, sql: str) -> list[list[str]]:
    proc = subprocess.run(
        [str(DUCKDB_CLI), "-readonly", "-csv", str(database), "-c", sql],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr
    return list(csv.reader(io.StringIO(proc.stdout)))


def test_the_duckdb_cli_1x_runs_every_readme_kpi_query_on_the_published_file(published_demo):
    version = subprocess.run([str(DUCKDB_CLI), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("v1."), version.stdout
    queries = _readme_kpi_queries()
    assert len(queries) == 5
    with duckdb.connect(str(published_demo.published), read_only=True) as con:
        for title, sql in queries.items():
            rows = duckdb_cli(published_demo.published, sql)
            assert len(rows) > 1 and any(row[-1] for row in rows[1:]), title
            # the same rows as DuckDB 2.0 reads them (first columns: the keys)
            expected = con.execute(sql).fetchall()
            assert [row[0] for row in rows[1:]] == [str(row[0]) for row in expected], title


def test_every_published_table_and_column_carries_its_dbt_description(published_demo):
    rows = duckdb_cli(
        published_demo.published,
        "select c.table_name, c.column_name, t.comment, c.comment"
        " from duckdb_columns() as c"
        " inner join duckdb_tables() as t using (database_name, schema_name, table_name)"
        " where c.schema_name = 'marts'",
    )[1:]
    assert {table for table, *_ in rows} == set(MARTS)
    described = dbt_descriptions()
    for table, column, table_comment, column_comment in rows:
        assert _words(table_comment) == described[table][0], table
        assert _words(column_comment) == described[table][1][column], f"{table}.{column}"


def test_sqlalchemy_with_duckdb_engine_lists_the_marts_and_queries_them(published_demo):
    engine = sqlalchemy.create_engine(
        f"duckdb:///{published_demo.published}", connect_args={"read_only": True}
    )
    try:
        assert sorted(sqlalchemy.inspect(engine).get_table_names(schema="marts")) == sorted(MARTS)
        with engine.connect() as connection:
            organisation = connection.execute(
                sqlalchemy.text("select sum(throughput) from marts.delivery_weekly where team_id = :team"),
                {"team": "__all__"},
            ).scalar_one()
            teams = connection.execute(
                sqlalchemy.text("select sum(throughput) from marts.delivery_weekly where team_id <> :team"),
                {"team": "__all__"},
            ).scalar_one()
    finally:
        engine.dispose()
    assert organisation == teams > 0


def test_pandas_reads_each_parquet_file_with_its_column_descriptions(published_demo):
    import pandas as pd
    import pyarrow.parquet as pq

    folder = published_demo.published.parent
    assert sorted(path.stem for path in folder.glob("*.parquet")) == sorted(MARTS)
    described = dbt_descriptions()
    with duckdb.connect(str(published_demo.published), read_only=True) as con:
        for mart in MARTS:
            path = folder / f"{mart}.parquet"
            frame = pd.read_parquet(path, engine="pyarrow")
            assert len(frame) == con.execute(f"select count(*) from marts.{mart}").fetchall()[0][0], mart
            metadata = pq.read_metadata(path).metadata
            columns = json.loads(metadata[PARQUET_COLUMN_DESCRIPTIONS_KEY.encode()])
            assert list(columns) == list(frame.columns), mart
            assert {name: _words(text) for name, text in columns.items()} == described[mart][1], mart
            assert _words(metadata[PARQUET_DESCRIPTION_KEY.encode()].decode()) == described[mart][0], mart
