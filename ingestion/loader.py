"""The raw-layer loader: the one write path into schema `raw`.

Every source and the gates' ledger write `raw` through a `RawLoader`, and
nothing else issues DML against it. Its operations:

`land(source, stream, pages)`
    API pages (and any source that builds `Page`s: survey exports). A batch
    of pages lands per transaction: rows merged on their table's primary key,
    or on its `DEDUPE_KEYS` (raw_tables.py) with MERGE INTO for a table
    without one (the latest version wins; a row re-landed unchanged keeps its `_loaded_at`
    and `_run_id`, so only changed rows look new to incremental models),
    rejected records quarantined in
    `raw.rejected_records`, stream cursors advanced in `raw.load_state`,
    earlier rows a page `replaces` deleted first, and the files a page
    completes recorded in `raw.loaded_files`, all in one DuckDB transaction.
    Consecutive pages batch up to `BATCH_ROWS` rows or `BATCH_SECONDS`; a
    page with `replaces` lands alone. When the source fails mid-stream, the
    pages read before the failure still land. `land_page(source, page)` is
    one such transaction.

`replace_file(source, stream, FileToLand, table, lines_sql, params)`
    A whole file read by DuckDB itself, set-based (no Python loop over
    rows), in one transaction: what the file landed before (its rows in
    `table`, its quarantined lines) is deleted, then every line of it meets
    exactly one fate, counted in `FileCounts` and kept in `raw.loaded_files`:
    landed, dropped as a duplicate of a line already landed (first line
    wins within the file; across files the row already landed wins, by
    `insert or ignore` on a primary key, else an anti-join on `DEDUPE_KEYS`),
    skipped (blank, or left out by the file's mapping), or quarantined with
    `file:line` and a reason. `lines_sql` yields one row per line:
    `line_no`, `status` (`ok` | `skipped` | `rejected`), `reason`,
    `payload`, and the table's own columns for the `ok` lines.
    `file_digest(path)` says what the file was when it last landed, so an
    unchanged file is skipped.

`quarantine_file(source, stream, FileToLand, table, reason)`
    A file that cannot be read at all (binary, a truncated gzip, a CSV
    without its columns) replaces what it landed before with one quarantined
    record for the whole file; `raw.loaded_files` keeps the reason.

`forget_file(source, stream, table, path, keep_runs)`
    A file that left the landing folder: its rows in `table` and its
    quarantined records from runs not in `keep_runs` (the runs whose gates
    passed) are deleted, and its `raw.loaded_files` row when nothing of it
    stays, in one transaction. The gates' ledger calls it, so removing a file
    whose batch failed a gate unblocks the source.

`rewind(source, cursors, failed_run)`
    Back to the last validated load: the source's cursors become `cursors`
    (those the ledger saved when its gates last passed; none = extract from
    the start), and the files the failed run landed are marked changed, so
    the next run reads them again.

`flag_deleted(table, key_column, keys, scope, now)`
    Deletion sweeps (ingestion/deletions.py): rows whose key the source no
    longer lists are flagged `is_deleted`, and restored when it lists them again.

`cursor(source, stream)` and `cursors(source)` read the resume points.
`transaction()` lets a caller (the ledger) put its own bookkeeping in the
same transaction as a loader operation; loader operations nest in it.

A crash leaves the warehouse as it was after the last whole transaction,
and a re-run neither duplicates nor loses a record.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from ingestion.pages import FileCounts, FileToLand, Page
from ingestion.raw_tables import DEDUPE_KEYS, RAW_SCHEMA, create_statements, create_table_sql

log = logging.getLogger(__name__)

# A long stream (a big Jira, a rate-limited GitHub) says how far it got, at most this often.
PROGRESS_EVERY_SECONDS = 10.0
BATCH_ROWS = 50_000
BATCH_SECONDS = 10.0
# The digest of a file whose landing failed its gates: it differs from any
# file's, so the file is read again.
UNVALIDATED_FILE_DIGEST = "unvalidated"
# Columns `replace_file` fills itself.
_FILE_COLUMNS = ("_source_file", "_line_number", "_loaded_at", "_run_id")


@dataclass
class StreamStats:
    source: str
    pages: int = 0
    rows_landed: int = 0
    rows_rejected: int = 0
    rows_duplicate: int = 0
    rows_skipped: int = 0
    # Per file of a file source: its four counts (files skipped as unchanged absent).
    files: dict[str, FileCounts] = field(default_factory=dict)

    @property
    def rejected_share(self) -> float:
        total = self.rows_landed + self.rows_rejected
        return self.rows_rejected / total if total else 0.0

    def count_file(self, path: str, counts: FileCounts) -> None:
        self.files[path] = counts
        self.pages += 1
        self.rows_landed += counts.landed
        # A file that could not be read at all is one quarantined record.
        self.rows_rejected += counts.rejected + (1 if counts.problem else 0)
        self.rows_duplicate += counts.duplicates
        self.rows_skipped += counts.skipped


def file_sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    for statement in create_statements():
        con.execute(statement)
    for table in DEDUPE_KEYS:
        if _primary_key(con, table):  # a warehouse from before DEDUPE_KEYS
            _drop_primary_key(con, table)


def _drop_primary_key(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """`table` recreated as a new warehouse has it (no primary key; DuckDB cannot
    drop one in place), every row and column kept, in one transaction: a crash or
    an error leaves the old table as it was."""
    old_columns, rows = _columns(con, table), _row_count(con, table)
    try:
        con.begin()
        own = True
    except duckdb.TransactionException:  # inside the caller's transaction: it commits
        own = False
    try:
        _copy_without_key(con, table, old_columns, rows)
        if own:
            con.commit()
    except BaseException:
        if own:
            con.rollback()
        raise
    keys = ", ".join(DEDUPE_KEYS[table])
    log.info("raw.%s: primary key dropped, %d rows kept; the loader de-duplicates on %s", table, rows, keys)


def _copy_without_key(con: duckdb.DuckDBPyConnection, table: str, old_columns: list[str], rows: int) -> None:
    staged = f"{RAW_SCHEMA}.{table}__without_key"
    con.execute(f"drop table if exists {staged}")
    con.execute(create_table_sql(table, staged))
    # by name: a column the new table lacks fails the migration rather than vanish
    ((copied,),) = con.execute(f"insert into {staged} by name select * from {RAW_SCHEMA}.{table}").fetchall()
    con.execute(f"drop table {RAW_SCHEMA}.{table}")
    con.execute(f"alter table {staged} rename to {table}")
    if copied != rows or sorted(_columns(con, table)) != sorted(old_columns):
        raise RuntimeError(f"raw.{table}: recreating it without its primary key would lose data")


def _row_count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"select count(*) from {RAW_SCHEMA}.{table}").fetchall()[0][0]


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


def _column_specs(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str, str | None]]:
    """(name, type, default expression) of each column of a raw table, in order."""
    return con.execute(
        "select column_name, data_type, column_default from duckdb_columns()"
        " where schema_name = ? and table_name = ? order by column_index",
        [RAW_SCHEMA, table],
    ).fetchall()


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [name for name, _, _ in _column_specs(con, table)]


def _used(sql: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The named parameters `sql` refers to: DuckDB refuses any other."""
    return {name: value for name, value in params.items() if re.search(rf"\${name}\b", sql)}


def combine(pages: list[Page]) -> Page:
    """One page holding `pages` in order, for one transaction (later versions win)."""
    combined = Page(locator=f"{pages[0].locator} .. {pages[-1].locator}")
    for page in pages:
        for table, rows in page.rows.items():
            combined.rows.setdefault(table, []).extend(rows)
        combined.rejected.extend(page.rejected)
        combined.cursors.update(page.cursors)
        combined.files.extend(page.files)
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
    """Writes schema `raw` of one open DuckDB connection (see the module docstring)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, run_id: str):
        self.con = con
        self.run_id = run_id
        self.started_at = datetime.now(UTC)
        self.stats: dict[tuple[str, str], StreamStats] = {}
        self._keys: dict[str, list[str]] = {}
        self._columns: dict[str, list[tuple[str, str, str | None]]] = {}
        self._depth = 0
        ensure_raw_schema(con)

    # -- transactions ----------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One DuckDB transaction; an operation inside another joins it."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.con.begin()
        self._depth = 1
        try:
            yield
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise
        finally:
            self._depth = 0

    # -- state -----------------------------------------------------------------
    def cursor(self, source: str, stream: str) -> str | None:
        return self.cursors(source).get(stream)

    def cursors(self, source: str) -> dict[str, str | None]:
        # fetchall, not fetchone: DuckDB 2.0 keeps a half-read result open and
        # refuses the next statement on this connection.
        rows = self.con.execute(
            f"select stream, cursor_value from {RAW_SCHEMA}.load_state where source = ?", [source]
        ).fetchall()
        return dict(rows)

    def file_digest(self, path: str) -> str | None:
        """The digest recorded when `path` last landed; None if it never did."""
        rows = self.con.execute(
            f"select sha256 from {RAW_SCHEMA}.loaded_files where path = ?", [path]
        ).fetchall()
        return rows[0][0] if rows else None

    # -- pages -----------------------------------------------------------------
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
            if page.replaces_earlier:  # replaces apply before the page's own rows: land it alone
                flush()
            if not batch:
                batch_started = time.monotonic()
            batch.append(page)
            batch_rows += page.row_count
            stats.pages += 1
            stats.rows_landed += page.landed_count
            stats.rows_rejected += len(page.rejected)
            for landed in page.files:
                stats.files[landed.path] = landed.counts
                stats.rows_duplicate += landed.counts.duplicates
                stats.rows_skipped += landed.counts.skipped
            now = time.monotonic()
            if page.replaces_earlier or batch_rows >= BATCH_ROWS or now - batch_started >= BATCH_SECONDS:
                flush()
            if now - last_note >= PROGRESS_EVERY_SECONDS:
                last_note = now
                log.info("%s/%s: %d pages, %d rows so far", source, stream, stats.pages, stats.rows_landed)
        flush()
        self.log_stream(source, stream, stats)
        return stats

    def land_page(self, source: str, page: Page) -> None:
        """One page in one transaction (see `land`, which batches pages)."""
        now = datetime.now(UTC)
        with self.transaction():
            for table, (column, values) in page.replaces.items():
                if values:
                    marks = ", ".join("?" for _ in values)
                    self.con.execute(f"delete from {RAW_SCHEMA}.{table} where {column} in ({marks})", values)
            for prefix in page.replaces_rejected:
                self._forget_rejected(source, prefix)
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
            for landed in page.files:
                self._record_file(source, landed, now)

    def _merge(self, table: str, rows: list[dict[str, Any]], now: datetime) -> None:
        if not rows:
            return
        keys, indexed = self._dedupe_key(table)
        # A page may carry one entity twice; keep its last version so the
        # merge below never meets a duplicate key within one statement.
        latest: dict[tuple, dict[str, Any]] = {}
        for row in rows:
            latest[tuple(row[k] for k in keys)] = row
        columns = list(rows[0])
        arrays = [[_as_text(row[c]) for row in latest.values()] for c in columns]
        unnests = ", ".join(f"unnest(${i + 1}::varchar[]) as {c}" for i, c in enumerate(columns))
        n = len(columns)
        # A row re-landed unchanged (the overlap window of an incremental
        # extract) keeps its _loaded_at: incremental dbt models reprocess only
        # what changed, and a run with no new data leaves the marts
        # byte-identical. It still joins this run's batch (_run_id), so the
        # gates see every row the run read, as before. A changed row, or one
        # flagged deleted, is replaced whole, unlisted columns back to their
        # defaults, with a new _loaded_at. Content is every column but the `_`
        # bookkeeping (_source_url: the same entity may come from another page).
        updated = [c for c in self._table_columns(table) if c not in keys and c != "_loaded_at"]
        content = [c for c in updated if not c.startswith("_")]
        changed = " or ".join(f"{table}.{c} is distinct from excluded.{c}" for c in content) or "false"
        assignments = ", ".join(
            [
                *(f"{c} = excluded.{c}" for c in updated),
                f"_loaded_at = case when {changed} then excluded._loaded_at else {table}._loaded_at end",
            ]
        )
        if indexed:
            self.con.execute(
                f"insert into {RAW_SCHEMA}.{table} ({', '.join(columns)}, _loaded_at, _run_id)"
                f" select *, ${n + 1}, ${n + 2} from (select {unnests})"
                f" on conflict ({', '.join(keys)}) do update set {assignments}",
                [*arrays, now, self.run_id],
            )
            return
        # No index to conflict on: the same upsert as a MERGE, whose source row is
        # typed and complete (columns the page leaves out at their defaults) as
        # `excluded` is in ON CONFLICT.
        given = {c: i for i, c in enumerate(columns)}
        typed = ", ".join(
            f"cast(${n + 1} as {data_type}) as {c}"
            if c == "_loaded_at"
            else f"cast(${n + 2} as {data_type}) as {c}"
            if c == "_run_id"
            else f"cast(unnest(${given[c] + 1}::varchar[]) as {data_type}) as {c}"
            if c in given
            else f"cast({default or 'null'} as {data_type}) as {c}"
            for c, data_type, default in self._column_specs(table)
        )
        match = " and ".join(f"{table}.{k} = excluded.{k}" for k in keys)
        self.con.execute(
            f"merge into {RAW_SCHEMA}.{table} using (select {typed}) as excluded on {match}"
            f" when matched then update set {assignments} when not matched then insert",
            [*arrays, now, self.run_id],
        )

    def _dedupe_key(self, table: str) -> tuple[list[str], bool]:
        """The columns no two rows of `table` share, and whether an index (its
        primary key) enforces them; else the loader does (DEDUPE_KEYS)."""
        if table not in self._keys:
            self._keys[table] = _primary_key(self.con, table)
        if self._keys[table]:
            return self._keys[table], True
        if table in DEDUPE_KEYS:
            return list(DEDUPE_KEYS[table]), False
        raise ValueError(f"raw.{table} has neither a primary key nor DEDUPE_KEYS: rows cannot be merged")

    def _table_columns(self, table: str) -> list[str]:
        return [name for name, _, _ in self._column_specs(table)]

    def _column_specs(self, table: str) -> list[tuple[str, str, str | None]]:
        if table not in self._columns:
            self._columns[table] = _column_specs(self.con, table)
        return self._columns[table]

    # -- whole files -------------------------------------------------------------
    def replace_file(
        self,
        source: str,
        stream: str,
        file: FileToLand,
        table: str,
        lines_sql: str,
        params: Mapping[str, Any],
    ) -> FileCounts:
        """Land one file read set-based by DuckDB, replacing what it landed before.

        `lines_sql` (see the module docstring) may use `params` and `$file`
        (the file's path). Returns the four counts, also kept in `raw.loaded_files`.
        """
        now = datetime.now(UTC)
        given = {**params, "file": file.path, "now": now, "run_id": self.run_id}
        keys, indexed = self._dedupe_key(table)
        columns = [c for c in _columns(self.con, table) if c not in _FILE_COLUMNS]
        with self.transaction():
            if self.file_digest(file.path) is not None:  # landed before: replaced, not merged
                self.con.execute(
                    f"delete from {RAW_SCHEMA}.{table} where _source_file = ?", [file.path]
                ).fetchall()
                self._forget_rejected(source, file.path + ":", stream)
            # Cheap (no column is parsed): the lines the four fates must add up to.
            count = f"select count(*) from ({lines_sql})"
            (lines,) = self.con.execute(count, _used(count, given)).fetchall()[0]
            # The few lines that do not land first, while the memory is free for
            # the big insert. Two streaming passes, not one classified temporary
            # table, which would have to fit beside the key index.
            unlanded = f"""
                create or replace temp table _unlanded_lines as
                select line_no, status, reason, payload from ({lines_sql}) where status <> 'ok'
            """
            self.con.execute(unlanded, _used(unlanded, given)).fetchall()
            self.con.execute(
                f"""
                insert into {RAW_SCHEMA}.rejected_records
                    (source, stream, locator, reason, payload, run_id, rejected_at)
                select $source, $stream, $file || ':' || line_no, reason, payload, $run_id, $now
                from _unlanded_lines
                where status = 'rejected'
                order by line_no
                """,
                {"source": source, "stream": stream, "file": file.path, "run_id": self.run_id, "now": now},
            ).fetchall()
            ((rejected, skipped),) = self.con.execute(
                "select count(*) filter (where status = 'rejected'),"
                " count(*) filter (where status = 'skipped') from _unlanded_lines"
            ).fetchall()
            self.con.execute("drop table _unlanded_lines")
            # Within the file the first line of a key wins; across files the row
            # already landed wins, so a re-run never reshuffles keys: `or ignore`
            # on a primary key, else an anti-join (a hash join, no index to keep).
            # ANTI JOIN, not a correlated NOT EXISTS: DuckDB runs that as a delim
            # join holding every column of the file's lines in memory (out of
            # memory under 512 MB at M), where this one spills.
            names = ", ".join(columns)
            unseen = (
                ""
                if indexed
                else f"anti join {RAW_SCHEMA}.{table} as landed on "
                + " and ".join(f"landed.{k} = lines.{k}" for k in keys)
            )
            insert = f"""
                insert {"or ignore" if indexed else ""} into {RAW_SCHEMA}.{table}
                    ({names}, {", ".join(_FILE_COLUMNS)})
                select {", ".join(f"lines.{c}" for c in columns)}, $file, lines.line_no, $now, $run_id
                from ({lines_sql}) as lines {unseen}
                where lines.status = 'ok'
                qualify row_number() over (
                    partition by {", ".join(f"lines.{k}" for k in keys)} order by lines.line_no
                ) = 1
            """
            rows = self.con.execute(insert, _used(insert, given)).fetchall()
            landed = int(rows[0][0]) if rows else 0
            counts = FileCounts(
                landed=landed,
                duplicates=lines - landed - rejected - skipped,
                skipped=skipped,
                rejected=rejected,
            )
            self._record_file(source, FileToLand(file.path, file.digest, stream, counts), now)
        return counts

    def quarantine_file(self, source: str, stream: str, file: FileToLand, table: str, reason: str) -> None:
        """A file that cannot be read at all (binary, a truncated gzip, no usable
        header): what it landed before is replaced by one quarantined record for
        the whole file (its path as locator), and `raw.loaded_files` keeps the
        reason, so the file is read again only once it changes."""
        now = datetime.now(UTC)
        with self.transaction():
            self.con.execute(
                f"delete from {RAW_SCHEMA}.{table} where _source_file = ?", [file.path]
            ).fetchall()
            self._forget_rejected(source, file.path + ":", stream)
            self.con.execute(
                f"delete from {RAW_SCHEMA}.rejected_records where source = ? and stream = ? and locator = ?",
                [source, stream, file.path],
            ).fetchall()
            self.con.execute(
                f"insert into {RAW_SCHEMA}.rejected_records values (?, ?, ?, ?, null, ?, ?)",
                [source, stream, file.path, f"{file.path}: {reason}", self.run_id, now],
            ).fetchall()
            counts = FileCounts(problem=reason)
            self._record_file(source, FileToLand(file.path, file.digest, stream, counts), now)

    def _forget_rejected(self, source: str, prefix: str, stream: str | None = None) -> None:
        """Quarantined records of `source` whose locator starts with `prefix` (a file's path + ':'),
        and the file's own record if it was once quarantined whole (its path as locator)."""
        self.con.execute(
            f"delete from {RAW_SCHEMA}.rejected_records"
            " where source = ? and (? is null or stream = ?)"
            " and (starts_with(locator, ?) or locator = ?)",
            [source, stream, stream, prefix, prefix.removesuffix(":")],
        ).fetchall()

    def _record_file(self, source: str, landed: FileToLand, at: datetime) -> None:
        c = landed.counts
        self.con.execute(
            f"""
            insert or replace into {RAW_SCHEMA}.loaded_files
                (path, sha256, stream, rows_landed, run_id, loaded_at,
                 source, rows_duplicate, rows_skipped, rows_rejected, problem)
            values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                landed.path,
                landed.digest,
                landed.stream,
                c.landed,
                self.run_id,
                at,
                source,
                c.duplicates,
                c.skipped,
                c.rejected,
                c.problem,
            ],
        ).fetchall()

    def forget_file(
        self, source: str, stream: str, table: str, path: str, keep_runs: Collection[str]
    ) -> tuple[int, int]:
        """A file gone from the landing folder: delete what runs outside `keep_runs` landed
        and quarantined from it. Returns (rows deleted, quarantined records deleted)."""
        params = {"path": path, "keep": list(keep_runs), "source": source, "stream": stream}
        with self.transaction():
            ((rows,),) = self.con.execute(
                f"delete from {RAW_SCHEMA}.{table}"
                " where _source_file = $path and not list_contains($keep, _run_id)",
                {"path": path, "keep": params["keep"]},
            ).fetchall()
            ((rejected,),) = self.con.execute(
                f"delete from {RAW_SCHEMA}.rejected_records"
                " where source = $source and stream = $stream"
                " and (starts_with(locator, $path || ':') or locator = $path)"
                " and not list_contains($keep, run_id)",
                params,
            ).fetchall()
            ((left,),) = self.con.execute(
                f"select count(*) from {RAW_SCHEMA}.{table} where _source_file = ?", [path]
            ).fetchall()
            if not left:  # nothing of it stays: should it come back, it lands anew
                self.con.execute(f"delete from {RAW_SCHEMA}.loaded_files where path = ?", [path]).fetchall()
        return rows, rejected

    # -- rewinding -------------------------------------------------------------
    def rewind(self, source: str, cursors: Mapping[str, tuple[str | None, str]], failed_run: str) -> None:
        """Back to the last validated load of `source`.

        `cursors` maps each stream to (cursor value, the run that left it), as
        saved when the source's gates last passed; a stream absent from it
        starts over. The files `failed_run` landed for the source get a digest
        no file has, so the next run lands them again.
        """
        now = datetime.now(UTC)
        with self.transaction():
            self.con.execute(f"delete from {RAW_SCHEMA}.load_state where source = ?", [source])
            for stream, (value, run_id) in cursors.items():
                self.con.execute(
                    f"insert into {RAW_SCHEMA}.load_state values (?, ?, ?, ?, ?)",
                    [source, stream, value, now, run_id],
                )
            # Files recorded before loaded_files had a source column name it through load_log.
            self.con.execute(
                f"""
                update {RAW_SCHEMA}.loaded_files set sha256 = ?
                where run_id = ? and (
                    source = ?
                    or source is null and stream in (
                        select stream from {RAW_SCHEMA}.load_log where run_id = ? and source = ?
                    )
                )
                """,
                [UNVALIDATED_FILE_DIGEST, failed_run, source, failed_run, source],
            ).fetchall()

    # -- deletions ---------------------------------------------------------------
    def flag_deleted(
        self, table: str, key_column: str, keys: list[str], scope: Mapping[str, Any], now: datetime
    ) -> tuple[int, int]:
        """Flag the rows of `table` within `scope` whose key is not in `keys` (a
        complete list of the source's keys) and restore flagged rows whose key
        is back, in one transaction; returns (flagged, restored)."""
        where = " and ".join(f"{column} = ?" for column in scope) or "true"
        key = f"cast({key_column} as varchar)"
        with self.transaction():
            self.con.execute(
                "create or replace temp table _swept_keys as select unnest(?::varchar[]) as key", [keys]
            )
            flagged = self.con.execute(
                f"""
                update {RAW_SCHEMA}.{table} set is_deleted = true, deleted_at = ?
                where not is_deleted and {where} and {key} not in (select key from _swept_keys)
                """,
                [now, *scope.values()],
            ).fetchall()[0][0]
            restored = self.con.execute(
                f"""
                update {RAW_SCHEMA}.{table} set is_deleted = false, deleted_at = null
                where is_deleted and {where} and {key} in (select key from _swept_keys)
                """,
                list(scope.values()),
            ).fetchall()[0][0]
            self.con.execute("drop table _swept_keys")
        return flagged, restored

    # -- bookkeeping -----------------------------------------------------------
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
            "%s/%s: %d pages, %d rows landed, %d rejected%s",
            source,
            stream,
            stats.pages,
            stats.rows_landed,
            stats.rows_rejected,
            f", {stats.rows_duplicate} duplicates dropped, {stats.rows_skipped} skipped"
            if stats.files
            else "",
        )
