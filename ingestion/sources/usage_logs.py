"""Usage event logs from `<landing>/usage/` (JSONL, JSON arrays, CSV; gzip allowed).

Every file is read by DuckDB itself, never row by row in Python, so a file of
ten million lines loads in bounded memory. Each file is first read as plain
lines of text (that keeps exact line numbers for quarantine locators), then
classified in SQL: blank lines are skipped, unusable lines go to
`raw.rejected_records`, the rest land in `raw.usage_events`. A file lands in
one transaction together with its `raw.loaded_files` row, so an unchanged file
is skipped on the next run and a changed one replaces its earlier rows.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import duckdb

from ingestion.config import UsageMapping
from ingestion.loader import RawLoader, StreamStats
from ingestion.pages import SourceError
from ingestion.raw_tables import RAW_SCHEMA

log = logging.getLogger(__name__)

SOURCE = "usage"
STREAM = "events"
SUFFIXES = (".jsonl", ".json", ".csv")
CSV_DELIMITERS = (",", ";", "\t")

# An email anywhere in text that goes to quarantine or into an error message
# is replaced by this, whatever field it sits in.
EMAIL_SQL_PATTERN = r"[^\s\"',;:<>()\[\]{}]+@[^\s\"',;:<>()\[\]{}]+"
EMAIL_PATTERN = re.compile(EMAIL_SQL_PATTERN)
REDACTED = "<redacted>"

# ISO 8601 date-times, compared after upper(trim(...)).
WITH_OFFSET = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)"
WITHOUT_OFFSET = r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?"

# The whole line as one column: a NUL delimiter and no quoting. strict_mode
# makes DuckDB fail loudly (instead of silently re-splitting lines) on files
# that mix line endings or contain a bare carriage return.
READ_LINES = """
    select row_number() over () as line_no, line
    from read_csv($path, columns = {'line': 'varchar'}, header = false, delim = '\\0',
                  quote = '', escape = '', comment = '', compression = 'auto',
                  auto_detect = false, strict_mode = true)
"""
# A JSON array file: one "line" per element (its ordinal stands in for the line).
READ_ARRAY = """
    select row_number() over () as line_no, json::varchar as line
    from read_json_objects($path, format = 'array', compression = 'auto')
"""


class UsageFileError(SourceError):
    """One usage file could not be read at all; the other files still land."""

    def __init__(self, where: str, message: str):
        super().__init__(SOURCE, where, message)
        self.message = message


@dataclass(frozen=True)
class UsageFile:
    path: Path
    relative: str  # to the landing dir: `_source_file` and `raw.loaded_files.path`
    kind: str  # jsonl | json_array | csv


def land_usage_logs(
    con: duckdb.DuckDBPyConnection,
    loader: RawLoader,
    usage_dir: Path,
    mapping: UsageMapping,
    landing_dir: Path | None = None,
) -> StreamStats:
    """Land every usage log under `usage_dir`; one transaction per file.

    `_source_file` is stored relative to `landing_dir` (default: the parent of
    `usage_dir`, i.e. `usage/<name>`). Files that cannot be read at all are
    reported together in one `SourceError` after the others have landed.
    """
    landing_dir = landing_dir or usage_dir.parent
    stats = loader.stats.setdefault((SOURCE, STREAM), StreamStats(SOURCE))
    failures: list[str] = []
    for path in find_usage_files(usage_dir):
        relative = path.relative_to(landing_dir).as_posix()
        try:
            usage_file = UsageFile(path, relative, _file_kind(path))
            landed, rejected = _land_file(con, loader.run_id, usage_file, mapping)
        except UsageFileError as exc:
            failures.append(f"{exc.where}: {exc.message}")
            continue
        except (OSError, UnicodeDecodeError, EOFError) as exc:  # unreadable, not UTF-8, bad gzip
            failures.append(f"{relative}: cannot read the file: {type(exc).__name__}")
            continue
        if landed is None:
            continue  # unchanged since it was loaded
        stats.pages += 1
        stats.rows_landed += landed
        stats.rows_rejected += rejected
    loader.log_stream(SOURCE, STREAM, stats)
    if failures:
        raise SourceError(
            SOURCE, str(usage_dir), f"{len(failures)} file(s) not loaded: " + "; ".join(failures)
        )
    return stats


def find_usage_files(usage_dir: Path) -> list[Path]:
    if not usage_dir.is_dir():
        return []
    return sorted(p for p in usage_dir.rglob("*") if p.is_file() and _base_suffix(p) in SUFFIXES)


def _base_suffix(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return Path(name).suffix


def _open_text(path: Path) -> TextIO:
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return path.open(encoding="utf-8-sig", newline="")


def _file_kind(path: Path) -> str:
    suffix = _base_suffix(path)
    if suffix == ".csv":
        return "csv"
    if suffix == ".json":
        # `.json` may hold JSON lines or one array of events.
        with _open_text(path) as fh:
            head = fh.read(4096).lstrip()
        return "json_array" if head.startswith("[") else "jsonl"
    return "jsonl"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def scrub_emails(text: str) -> str:
    return EMAIL_PATTERN.sub(REDACTED, text)


# -- one file ------------------------------------------------------------------


def _land_file(
    con: duckdb.DuckDBPyConnection, run_id: str, usage_file: UsageFile, mapping: UsageMapping
) -> tuple[int | None, int]:
    """Returns (rows landed, rows rejected); landed is None for a skipped file."""
    sha256 = file_sha256(usage_file.path)
    known = con.execute(
        f"select sha256 from {RAW_SCHEMA}.loaded_files where path = ?", [usage_file.relative]
    ).fetchall()
    if known and known[0][0] == sha256:
        log.info("usage: %s unchanged since it was loaded, skipped", usage_file.relative)
        return None, 0

    classified, params = _classified_sql(usage_file, mapping)
    now = datetime.now(UTC)
    params = {**params, "file": usage_file.relative, "now": now, "run_id": run_id}
    con.begin()
    try:
        if known:  # the file changed: its earlier rows are replaced, not merged
            con.execute(
                f"delete from {RAW_SCHEMA}.usage_events where _source_file = ?",
                [usage_file.relative],
            ).fetchall()
        landed = _insert_events(con, classified, params)
        rejected = _insert_rejects(con, classified, params)
        con.execute(
            f"insert or replace into {RAW_SCHEMA}.loaded_files values (?, ?, ?, ?, ?, ?)",
            [usage_file.relative, sha256, STREAM, landed, run_id, now],
        ).fetchall()
        con.commit()
    except duckdb.Error as exc:
        con.rollback()
        # DuckDB quotes the offending line, which may hold an email; keep only
        # the first line of its message, scrubbed, and drop the chained error.
        message = scrub_emails(str(exc).splitlines()[0])
        if "state machine" in message:
            message = "its lines cannot be split reliably (mixed or bare-CR line endings)"
        raise UsageFileError(usage_file.relative, f"cannot read the file: {message}") from None
    except BaseException:
        con.rollback()
        raise
    log.info("usage: %s landed %d events, rejected %d lines", usage_file.relative, landed, rejected)
    return landed, rejected


def _insert_events(con: duckdb.DuckDBPyConnection, classified: str, params: dict) -> int:
    # Within a file the first line of an event_key wins; across files the row
    # already landed wins (`or ignore`), so a re-run never reshuffles keys.
    rows = con.execute(
        f"""
        insert or ignore into {RAW_SCHEMA}.usage_events
            (event_key, occurred_at, user_email, tool, event, _source_file, _line_number,
             _loaded_at, _run_id)
        select event_key, occurred_at, user_email, tool, event, $file, line_no, $now, $run_id
        from ({classified})
        where status = 'ok'
        qualify row_number() over (partition by event_key order by line_no) = 1
        """,
        params,
    ).fetchall()
    return int(rows[0][0]) if rows else 0


def _insert_rejects(con: duckdb.DuckDBPyConnection, classified: str, params: dict) -> int:
    rows = con.execute(
        f"""
        insert into {RAW_SCHEMA}.rejected_records
            (source, stream, locator, reason, payload, run_id, rejected_at)
        select '{SOURCE}', '{STREAM}', $file || ':' || line_no, reason, payload, $run_id, $now
        from ({classified})
        where status = 'rejected'
        """,
        params,
    ).fetchall()
    return int(rows[0][0]) if rows else 0


# -- SQL: lines → fields → classification ----------------------------------------


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _json_path(field: str) -> str:
    return '$."' + field.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _scrub_sql(expr: str) -> str:
    return f"regexp_replace({expr}, {_sql_str(EMAIL_SQL_PATTERN)}, '{REDACTED}', 'g')"


def _classified_sql(usage_file: UsageFile, mapping: UsageMapping) -> tuple[str, dict]:
    """SQL yielding line_no, status (ok | rejected | blank), reason, payload and
    the typed event columns; `$path` is its only parameter."""
    if usage_file.kind == "csv":
        fields = _csv_fields_sql(usage_file, mapping)
    else:
        source = READ_ARRAY if usage_file.kind == "json_array" else READ_LINES
        fields = _json_fields_sql(source, mapping)
    names = {
        "ts": mapping.timestamp,
        "email": mapping.user_email,
        "tool": mapping.tool,
        "event": mapping.event,
    }
    missing = ", ".join(
        f"case when {column} is null then {_sql_str(name)} end" for column, name in names.items()
    )
    ts_label = _sql_str(mapping.timestamp)
    # The value is quoted in the reason (short, scrubbed) so a reader sees what was wrong.
    ts_shown = _scrub_sql("left(ts, 40)")
    sql = f"""
        select line_no, reason, payload,
               case when blank then 'blank' when reason is null then 'ok' else 'rejected' end
                   as status,
               coalesce(event_id, sha256($file || ':' || line_no)) as event_key,
               try_cast(ts_norm as timestamptz) as occurred_at,
               lower(email) as user_email, tool, event
        from (
            select *,
                case
                    when blank then null
                    when problem is not null then problem
                    when concat_ws(', ', {missing}) <> ''
                        then 'missing required field: ' || concat_ws(', ', {missing})
                    when regexp_full_match(ts_norm, {_sql_str(WITHOUT_OFFSET)})
                        then {ts_label} || ' has no UTC offset: "' || {ts_shown} || '"'
                    when not regexp_full_match(ts_norm, {_sql_str(WITH_OFFSET)})
                        then {ts_label} || ' is not an ISO 8601 date-time: "' || {ts_shown} || '"'
                    when try_cast(ts_norm as timestamptz) is null
                        then {ts_label} || ' is not a valid date-time: "' || {ts_shown} || '"'
                end as reason
            from (
                select *, upper(ts) as ts_norm
                from ({fields})
            )
        )
    """
    return sql, {"path": str(usage_file.path)}


def _nonblank(expr: str) -> str:
    return f"nullif(trim({expr}), '')"


def _json_fields_sql(source: str, mapping: UsageMapping) -> str:
    paths = [mapping.timestamp, mapping.user_email, mapping.tool, mapping.event]
    if mapping.event_id:
        paths.append(mapping.event_id)
    path_list = "[" + ", ".join(_sql_str(_json_path(p)) for p in paths) + "]"
    event_id = _nonblank("f[5]") if mapping.event_id else "null"
    email_key = _sql_str(mapping.user_email)
    without_email = f"json_merge_patch(text, json_object({email_key}, null))::varchar"
    return f"""
        select line_no, blank, problem,
               {_nonblank("f[1]")} as ts, {_nonblank("f[2]")} as email,
               {_nonblank("f[3]")} as tool, {_nonblank("f[4]")} as event,
               {event_id} as event_id,
               {_scrub_sql(f"case when problem is null then {without_email} else text end")}
                   as payload
        from (
            select *,
                -- CASE guards every JSON function: on invalid JSON they raise
                -- an error quoting the line, email included.
                case when problem is null then json_extract_string(text, {path_list}) end as f
            from (
                select line_no, text, blank,
                    case
                        when blank then null
                        when not json_valid(text) then 'invalid JSON'
                        when json_type(text) <> 'OBJECT' then 'not a JSON object'
                    end as problem
                from (
                    select line_no,
                        -- a UTF-8 byte order mark may start the first line
                        case when line_no = 1 then ltrim(line, chr(65279)) else line end as text,
                        coalesce(trim(line), '') = '' as blank
                    from ({source})
                )
            )
        )
    """


def read_csv_header(path: Path) -> tuple[list[str], str]:
    """The header's column names and the delimiter they are separated by."""
    with _open_text(path) as fh:
        first = fh.readline().rstrip("\r\n")
    delimiter = max(CSV_DELIMITERS, key=first.count)
    return next(csv.reader([first], delimiter=delimiter)), delimiter


def _csv_column(header: list[str], name: str) -> int | None:
    """1-based position of `name` in the header (exact, else case-insensitive)."""
    stripped = [h.strip() for h in header]
    for candidates in (stripped, [h.lower() for h in stripped]):
        wanted = name if candidates is stripped else name.lower()
        if wanted in candidates:
            return candidates.index(wanted) + 1
    return None


def _csv_fields_sql(usage_file: UsageFile, mapping: UsageMapping) -> str:
    """CSV lines are split in SQL (one record per line, RFC 4180 quoting), so
    that every record keeps its true line number, blank lines included."""
    header, delimiter = read_csv_header(usage_file.path)
    required = {
        "ts": mapping.timestamp,
        "email": mapping.user_email,
        "tool": mapping.tool,
        "event": mapping.event,
    }
    positions = {key: _csv_column(header, name) for key, name in required.items()}
    absent = [required[k] for k, pos in positions.items() if pos is None]
    if absent:
        raise UsageFileError(usage_file.relative, f"CSV header has no column {', '.join(map(repr, absent))}")
    event_id_pos = _csv_column(header, mapping.event_id) if mapping.event_id else None
    d = re.escape(delimiter)
    field_re = f'(?:^|{d})("(?:[^"]|"")*"|[^{d}"]*)'
    n = len(header)
    row_json = "json_object({})::varchar".format(
        ", ".join(
            f"{_sql_str(name)}, f[{i}]" for i, name in enumerate(header, start=1) if i != positions["email"]
        )
    )

    def field(pos: int | None) -> str:
        return _nonblank(f"f[{pos}]") if pos else "null"

    return f"""
        select line_no, blank, problem,
               {field(positions["ts"])} as ts, {field(positions["email"])} as email,
               {field(positions["tool"])} as tool, {field(positions["event"])} as event,
               {field(event_id_pos)} as event_id,
               {_scrub_sql(f"case when problem is null then {row_json} else text end")} as payload
        from (
            select *,
                case
                    when blank then null
                    when length(text) <> list_sum(list_transform(raw, lambda x: length(x)))
                                        + len(raw) - 1
                        then 'malformed CSV line (unbalanced quotes or a multi-line record)'
                    when len(raw) <> {n}
                        then 'expected {n} CSV fields, found ' || len(raw)
                end as problem,
                list_transform(raw, lambda x: case when x[1] = '"'
                                               then replace(x[2:-2], '""', '"') else x end) as f
            from (
                select line_no, line as text,
                       coalesce(trim(line), '') = '' as blank,
                       regexp_extract_all(line, {_sql_str(field_re)}, 1) as raw
                from ({READ_LINES})
                where line_no > 1
            )
        )
    """
