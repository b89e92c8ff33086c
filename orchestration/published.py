"""Read the engine's published marts, read-only, with one SQL for every engine.

On duckdb the published marts are the DuckDB file at PRODUCTOPS_PUBLISHED
(schema marts); on postgres they are schema `published` on the server at
PRODUCTOPS_POSTGRES_URL, read in a read-only transaction. Either way the
search path is the published schema, so readers name marts unqualified
(`from kpi_status`), and write parameters as `?` (turned into psycopg's `%s`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingestion.config import Secret, Settings, masked_url

DUCKDB_SCHEMA = "marts"
POSTGRES_SCHEMA = "published"
# `?` placeholders outside quoted strings and identifiers.
_PLACEHOLDER = re.compile(r"('(?:[^']|'')*'|\"(?:[^\"]|\"\")*\")|(\?)|(%)")
# psycopg type codes (PostgreSQL type OIDs) turned into what DuckDB's `.df()` gives.
_NUMERIC, _DATE, _TIMESTAMP, _TIMESTAMPTZ = 1700, 1082, 1114, 1184

if TYPE_CHECKING:
    import pandas as pd


class NotPublished(Exception):
    """There are no published marts to read yet."""


def to_pyformat(sql: str) -> str:
    """`?` placeholders as psycopg's `%s` (a literal `%` doubled), quoted text left alone."""

    def swap(match: re.Match) -> str:
        quoted, mark, _percent = match.groups()
        return quoted if quoted else ("%s" if mark else "%%")

    return _PLACEHOLDER.sub(swap, sql)


@dataclass(frozen=True)
class PublishedSource:
    """Where the published marts are: a DuckDB file, or schema published on a PostgreSQL server."""

    path: Path
    postgres_url: Secret | None = None

    @classmethod
    def of(cls, settings: Settings) -> PublishedSource:
        url = settings.engine.postgres_url if settings.engine.name == "postgres" else None
        return cls(path=settings.published, postgres_url=url)

    @property
    def engine(self) -> str:
        return "postgres" if self.postgres_url is not None else "duckdb"

    @property
    def schema(self) -> str:
        return POSTGRES_SCHEMA if self.postgres_url is not None else DUCKDB_SCHEMA

    @property
    def where(self) -> str:
        """For messages: the file, or the schema and server (no secret)."""
        if self.postgres_url is None:
            return str(self.path)
        return f"schema {POSTGRES_SCHEMA} on {masked_url(self.postgres_url.value)}"


class PostgresReader:
    """A read-only psycopg connection that takes `?` parameters like DuckDB."""

    def __init__(self, con) -> None:
        self._con = con

    def execute(self, sql: str, params: list[Any] | None = None):
        cursor = self._con.cursor()
        cursor.execute(to_pyformat(sql) if params else sql, params or None)
        return cursor


def as_source(published: Path | PublishedSource) -> PublishedSource:
    """A bare path is a published DuckDB file."""
    return published if isinstance(published, PublishedSource) else PublishedSource(Path(published))


@contextmanager
def connect(source: PublishedSource) -> Iterator[Any]:
    """A read-only connection whose search path is the published schema; NotPublished when
    nothing is published yet. Use it for one read and close it: a held DuckDB file keeps
    serving the copy a later publish replaced."""
    if source.postgres_url is None:
        yield from _duckdb(source)
    else:
        yield from _postgres(source)


def _duckdb(source: PublishedSource) -> Iterator[Any]:
    import duckdb

    if not source.path.exists():
        raise NotPublished(
            f"no published marts at {source.path}: run `make run` (or `productops run`) first; "
            "a run publishes only when every gate passed"
        )
    con = duckdb.connect(str(source.path), read_only=True, config={"enable_external_access": False})
    try:
        con.execute(f"set search_path = '{DUCKDB_SCHEMA},main'")
        yield con
    finally:
        con.close()


def _postgres(source: PublishedSource) -> Iterator[Any]:
    import psycopg

    con = psycopg.connect(source.postgres_url.value, application_name="productops-reader")
    try:
        con.read_only = True
        with con.cursor() as cur:
            cur.execute("select 1 from pg_namespace where nspname = %s", [POSTGRES_SCHEMA])
            if not cur.fetchall():
                raise NotPublished(
                    f"no published marts in {source.where}: run `productops run --engine postgres` "
                    "first; a run publishes only when every gate passed"
                )
            cur.execute(f"set search_path = {POSTGRES_SCHEMA}")
        yield PostgresReader(con)
    finally:
        con.rollback()
        con.close()


def frame(source: PublishedSource, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
    """One query as a DataFrame, typed as DuckDB's `.df()` types it on every engine."""
    # Imported here: the pipeline loads this module, and pandas costs seconds of its start-up.
    import pandas as pd

    with connect(source) as con:
        cursor = con.execute(sql, params or [])
        if source.postgres_url is None:
            return cursor.df()
        result = pd.DataFrame.from_records(
            cursor.fetchall(), columns=_unique([d[0] for d in cursor.description])
        )
        for column, type_code in zip(result.columns, (d[1] for d in cursor.description), strict=True):
            if type_code == _NUMERIC:
                result[column] = pd.to_numeric(result[column].astype("float64"))
            elif type_code in (_DATE, _TIMESTAMP):
                result[column] = pd.to_datetime(result[column])
            elif type_code == _TIMESTAMPTZ:
                result[column] = pd.to_datetime(result[column], utc=True)
        return result


def _unique(names: list[str]) -> list[str]:
    """Repeated column names suffixed `_1`, `_2`, … as DuckDB's `.df()` does (`select w.*, i.key`)."""
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        unique.append(name if count == 0 else f"{name}_{count}")
    return unique


def rows(con, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    """A query's rows as dicts, on a connection from `connect`."""
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def tables(con, source: PublishedSource) -> list[str]:
    cursor = con.execute(
        "select table_name from information_schema.tables where table_schema = ?"
        " and table_type = 'BASE TABLE' order by table_name",
        [source.schema],
    )
    return [r[0] for r in cursor.fetchall()]


def row_counts(source: PublishedSource) -> dict[str, int]:
    """Rows of every published mart."""
    with connect(source) as con:
        names = tables(con, source)
        return {t: con.execute(f'select count(*) from "{t}"').fetchall()[0][0] for t in names}


def is_published(source: PublishedSource) -> bool:
    try:
        with connect(source):
            return True
    except NotPublished:
        return False


def version(source: PublishedSource) -> tuple:
    """Changes whenever a run publishes (caches key on it)."""
    if source.postgres_url is None:
        stat = source.path.stat()
        return stat.st_mtime_ns, stat.st_size
    with connect(source) as con:
        # Each publish swaps in a new schema: a new object id.
        return tuple(
            con.execute(
                f"select oid::bigint from pg_namespace where nspname = '{POSTGRES_SCHEMA}'"
            ).fetchall()[0]
        )


def published_at(source: PublishedSource):
    """When the marts were published (UTC)."""
    from datetime import UTC, datetime

    if source.postgres_url is None:
        return datetime.fromtimestamp(source.path.stat().st_mtime, UTC)
    with connect(source) as con:
        # publishing_postgres stamps the schema it swaps in.
        comment = con.execute(
            f"select obj_description(to_regnamespace('{POSTGRES_SCHEMA}'), 'pg_namespace')"
        ).fetchall()[0][0]
    try:
        return datetime.fromisoformat(comment)
    except (TypeError, ValueError):
        return datetime.now(UTC)
