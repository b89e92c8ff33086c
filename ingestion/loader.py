"""The raw-layer loader: lands pages idempotently, a batch of pages per transaction.

A batch's rows are merged on their table's primary key (the latest version
wins), its rejected records are quarantined and its stream cursors advance,
all in one DuckDB transaction: a crash leaves the warehouse as it was after
the last whole batch, and a re-run neither duplicates nor loses a record.
Consecutive pages are batched up to `BATCH_ROWS` rows or `BATCH_SECONDS`,
because a transaction per 100-issue page spends more time committing than
writing; when the source fails mid-stream, the pages read before the failure
still land.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

from ingestion.pages import Page
from ingestion.raw_tables import RAW_SCHEMA, create_statements

log = logging.getLogger(__name__)

# A long stream (a big Jira, a rate-limited GitHub) says how far it got, at most this often.
PROGRESS_EVERY_SECONDS = 10.0
BATCH_ROWS = 50_000
BATCH_SECONDS = 10.0


@dataclass
class StreamStats:
    source: str
    pages: int = 0
    rows_landed: int = 0
    rows_rejected: int = 0

    @property
    def rejected_share(self) -> float:
        total = self.rows_landed + self.rows_rejected
        return self.rows_rejected / total if total else 0.0


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    for statement in create_statements():
        con.execute(statement)


def _primary_key(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(
        """
        select unnest(constraint_column_names)
        from duckdb_constraints()
        where schema_name = ? and table_name = ? and constraint_type = 'PRIMARY KEY'
        """,
        [RAW_SCHEMA, table],
    ).fetchall()
    return [r[0] for r in rows]


def combine(pages: list[Page]) -> Page:
    """One page holding `pages` in order, for one transaction (later versions win)."""
    combined = Page(locator=f"{pages[0].locator} .. {pages[-1].locator}")
    for page in pages:
        for table, rows in page.rows.items():
            combined.rows.setdefault(table, []).extend(rows)
        combined.rejected.extend(page.rejected)
        combined.cursors.update(page.cursors)
    return combined


def _as_text(value: Any) -> str | None:
    # Pages travel to DuckDB as one text array per column (fast, no pandas);
    # the insert casts each to the raw table's column type.
    if value is None or type(value) is str:  # most values: checked first
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


class RawLoader:
    """Writes pages into schema `raw` of one open DuckDB connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection, run_id: str):
        self.con = con
        self.run_id = run_id
        self.started_at = datetime.now(UTC)
        self.stats: dict[tuple[str, str], StreamStats] = {}
        self._keys: dict[str, list[str]] = {}
        ensure_raw_schema(con)

    # -- state ---------------------------------------------------------------
    def cursor(self, source: str, stream: str) -> str | None:
        # fetchall, not fetchone: DuckDB 2.0 keeps a half-read result open and
        # refuses the next statement on this connection.
        rows = self.con.execute(
            f"select cursor_value from {RAW_SCHEMA}.load_state where source = ? and stream = ?",
            [source, stream],
        ).fetchall()
        return rows[0][0] if rows else None

    # -- landing -------------------------------------------------------------
    def land(self, source: str, stream: str, pages: Iterable[Page]) -> StreamStats:
        """Land every page of one source stream; returns what was landed."""
        stats = self.stats.setdefault((source, stream), StreamStats(source))
        last_note = batch_started = time.monotonic()
        batch: list[Page] = []
        batch_rows = 0

        def flush() -> None:
            nonlocal batch_rows
            batch_rows = 0
            if batch:
                self.land_page(source, batch[0] if len(batch) == 1 else combine(batch))
                batch.clear()

        iterator = iter(pages)
        while True:
            try:
                page = next(iterator)
            except StopIteration:
                break
            except BaseException:
                flush()  # what was read before the source failed still lands
                raise
            if page.replaces:  # replaces apply before the page's own rows: land it alone
                flush()
            if not batch:
                batch_started = time.monotonic()
            batch.append(page)
            batch_rows += page.row_count
            stats.pages += 1
            stats.rows_landed += page.row_count
            stats.rows_rejected += len(page.rejected)
            now = time.monotonic()
            if page.replaces or batch_rows >= BATCH_ROWS or now - batch_started >= BATCH_SECONDS:
                flush()
            if now - last_note >= PROGRESS_EVERY_SECONDS:
                last_note = now
                log.info("%s/%s: %d pages, %d rows so far", source, stream, stats.pages, stats.rows_landed)
        flush()
        self.log_stream(source, stream, stats)
        return stats

    def land_page(self, source: str, page: Page) -> None:
        now = datetime.now(UTC)
        self.con.begin()
        try:
            for table, (column, values) in page.replaces.items():
                if values:
                    marks = ", ".join("?" for _ in values)
                    self.con.execute(f"delete from {RAW_SCHEMA}.{table} where {column} in ({marks})", values)
            for table, rows in page.rows.items():
                self._merge(table, rows, now)
            if page.rejected:
                self.con.executemany(
                    f"insert into {RAW_SCHEMA}.rejected_records values (?, ?, ?, ?, ?, ?, ?)",
                    [
                        [source, r.stream, r.locator, r.reason, r.payload, self.run_id, now]
                        for r in page.rejected
                    ],
                )
            for stream, value in page.cursors.items():
                self.con.execute(
                    f"insert or replace into {RAW_SCHEMA}.load_state values (?, ?, ?, ?, ?)",
                    [source, stream, value, now, self.run_id],
                )
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise

    def _merge(self, table: str, rows: list[dict[str, Any]], now: datetime) -> None:
        if not rows:
            return
        keys = self._keys.get(table)
        if keys is None:
            keys = self._keys[table] = _primary_key(self.con, table)
        # A page may carry one entity twice; keep its last version so the
        # merge below never meets a duplicate key within one statement.
        latest: dict[tuple, dict[str, Any]] = {}
        for row in rows:
            latest[tuple(row[k] for k in keys)] = row
        columns = list(rows[0])
        arrays = [[_as_text(row[c]) for row in latest.values()] for c in columns]
        unnests = ", ".join(f"unnest(${i + 1}::varchar[]) as {c}" for i, c in enumerate(columns))
        n = len(columns)
        self.con.execute(
            f"insert or replace into {RAW_SCHEMA}.{table} ({', '.join(columns)}, _loaded_at, _run_id)"
            f" select *, ${n + 1}, ${n + 2} from (select {unnests})",
            [*arrays, now, self.run_id],
        )

    def log_stream(self, source: str, stream: str, stats: StreamStats) -> None:
        self.con.execute(
            f"insert into {RAW_SCHEMA}.load_log values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                self.run_id,
                source,
                stream,
                stats.pages,
                stats.rows_landed,
                stats.rows_rejected,
                self.started_at,
                datetime.now(UTC),
            ],
        )
        log.info(
            "%s/%s: %d pages, %d rows landed, %d rejected",
            source,
            stream,
            stats.pages,
            stats.rows_landed,
            stats.rows_rejected,
        )
