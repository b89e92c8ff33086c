"""`productops query`: read-only SQL against the published marts, as a table or CSV.

It opens the published copy only, read-only and with DuckDB's external access
off: a query can read the marts and nothing else (no ATTACH of the pipeline's
own file, no COPY, no file reads), so it can never take the lock a run needs.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import duckdb
import psycopg

from orchestration.published import NotPublished, PublishedSource, connect
from orchestration.publishing import MARTS_SCHEMA

__all__ = ["NotPublished", "QueryError", "columns", "execute", "fetch", "published_connection"]

MAX_WIDTH = 40
FETCH_BATCH = 10_000


class QueryError(Exception):
    """The SQL failed; the message is DuckDB's."""


@contextmanager
def published_connection(published: Path | PublishedSource, warehouse: Path) -> Iterator[Any]:
    """A read-only connection to the published marts: the DuckDB file, or (a PublishedSource on
    postgres) schema published in a read-only transaction; unqualified names find the marts."""
    if isinstance(published, PublishedSource):
        if published.postgres_url is not None:
            try:
                with connect(published) as con:
                    yield con
            except psycopg.Error as exc:
                raise QueryError(str(exc).strip()) from exc
            return
        published = published.path
    if published.resolve() == warehouse.resolve():
        raise ValueError(
            f"PRODUCTOPS_PUBLISHED and PRODUCTOPS_WAREHOUSE both point at {published}: "
            "readers must never open the file the pipeline writes"
        )
    if not published.exists():
        raise NotPublished(
            f"no published marts at {published}: run `productops run` first "
            "(a run publishes only when every gate passed)"
        )
    try:
        con = duckdb.connect(str(published), read_only=True, config={"enable_external_access": False})
    except duckdb.Error as exc:
        raise QueryError(f"cannot open {published}: {exc}") from exc
    try:
        # Unqualified names find the marts: `from delivery_weekly` works.
        con.execute(f"set search_path = '{MARTS_SCHEMA},main'")
        yield con
    finally:
        con.close()


def execute(con: duckdb.DuckDBPyConnection, sql: str) -> duckdb.DuckDBPyConnection:
    if not sql.strip():
        raise QueryError("empty SQL")
    try:
        cursor = con.execute(sql)
    except (duckdb.Error, psycopg.Error) as exc:
        raise QueryError(str(exc).strip()) from exc
    if cursor.description is None:
        raise QueryError("the statement returned no rows to show (only queries are allowed)")
    return cursor


def columns(cursor: duckdb.DuckDBPyConnection) -> list[str]:
    return [d[0] for d in cursor.description]


def fetch(cursor: duckdb.DuckDBPyConnection, limit: int | None = None) -> Iterator[tuple]:
    """Rows in batches; stops after `limit` rows when given (the connection is closed after)."""
    seen = 0
    while True:
        batch = cursor.fetchmany(FETCH_BATCH if limit is None else min(FETCH_BATCH, limit + 1 - seen))
        if not batch:
            return
        for row in batch:
            yield row
            seen += 1
        if limit is not None and seen > limit:
            return


# -- output -----------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = f"{value:.4f}".rstrip("0").rstrip(".")
        return text if text not in ("", "-0") else "0"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return str(value)


def _fits(text: str) -> str:
    return text if len(text) <= MAX_WIDTH else text[: MAX_WIDTH - 1] + "…"


def _right_aligned(value: Any) -> bool:
    return isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool)


def write_table(out: IO[str], names: Sequence[str], rows: Sequence[tuple], more: bool) -> None:
    cells = [[_fits(_cell(v)) for v in row] for row in rows]
    widths = [max([len(n), *(len(r[i]) for r in cells)]) for i, n in enumerate(names)]
    numeric = [
        bool(rows) and all(_right_aligned(r[i]) or r[i] is None for r in rows) for i in range(len(names))
    ]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    out.write(line([_fits(n) for n in names]) + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for row in cells:
        out.write(line(row) + "\n")
    count = f"{len(rows)} row{'s' if len(rows) != 1 else ''}"
    if more:
        out.write(f"({count} shown; more available: raise --max-rows, or use --csv for every row)\n")
    else:
        out.write(f"({count})\n")


def write_csv(out: IO[str], names: Sequence[str], rows: Iterator[tuple]) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    count = 0
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
        count += 1
    return count
