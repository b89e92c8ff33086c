"""Usage event logs from `<landing>/usage/` (JSONL, JSON arrays, CSV; gzip allowed).

Every file is read by DuckDB itself, never row by row in Python, and under a
DuckDB memory limit (spilling to disk past it), so a file of ten million lines
loads in bounded memory. Each file is first read as plain lines of text (that
keeps exact line numbers for quarantine locators), then classified in SQL:
blank lines are skipped, unusable lines go to `raw.rejected_records`, the rest
land in `raw.usage_events`. A file lands in one transaction together with its
`raw.loaded_files` row, so an unchanged file is skipped on the next run and a
changed one replaces its earlier rows (and its earlier quarantined lines).

Where each field is read comes from `[usage]` (every file) and, per group of
files, `[[usage_files]]` tables of the configuration file (`FieldMapping`): a
field may be a key, a dotted path into nested JSON (`properties.tool`), or a
list of alternatives of which the first non-blank wins (Segment's `userId`,
then `anonymousId`); a file may name its tool outright (`tool_name`) and keep
only some lines (`only = {type = "track"}`).
"""

from __future__ import annotations

import csv
import fnmatch
import gzip
import logging
import re
import tempfile
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

import duckdb

from ingestion.config import ConfigError, UsageMapping
from ingestion.loader import RawLoader, StreamStats, file_sha256
from ingestion.pages import FileCounts, FileToLand, SourceError
from ingestion.text_files import MARK, MAX_LINE_BYTES, UnreadableFile, sniff, write_line_safe_copy

log = logging.getLogger(__name__)

SOURCE = "usage"
STREAM = "events"
TABLE = "usage_events"
SUFFIXES = (".jsonl", ".json", ".csv")
CSV_DELIMITERS = (",", ";", "\t")
# DuckDB settings while a file loads: past the limit, sorts and joins (the
# de-duplicating anti-join included) spill to `<warehouse>.tmp/`. The table
# has no key index to hold in memory (raw_tables.DEDUPE_KEYS), so one limit
# fits every file whatever the table's size.
MEMORY_LIMIT = "1GB"
PAYLOAD_CHARS = 2000  # of an unreadable line kept in quarantine

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
# that mix line endings or contain a bare carriage return, and on bytes that
# are not UTF-8: such a file is read again from its line-safe copy.
READ_LINES = f"""
    select row_number() over () as line_no, line
    from read_csv($path, columns = {{'line': 'varchar'}}, header = false, delim = '\\0',
                  quote = '', escape = '', comment = '', compression = 'auto',
                  auto_detect = false, strict_mode = true, max_line_size = {MAX_LINE_BYTES})
"""
# Every line as text: a byte order mark stripped from any line (concatenated
# exports keep one per part); a line the line-safe copy marked carries its
# reason in `mark` and what could be shown of it in `text`.
LINES = f"""
    select line_no, mark,
           case when mark is null then text else split_part(text, '{MARK}', 3) end as text,
           mark is null and coalesce(trim(text), '') = '' as blank
    from (
        select line_no, ltrim(line, chr(65279)) as text,
               case when starts_with(line, '{MARK}') then split_part(line, '{MARK}', 2) end as mark
        from ({READ_LINES})
    )
"""
# JSON that DuckDB's reader accepts but JSON does not: a trailing comma, NaN,
# Infinity (comments are refused already). Looked for outside strings, and
# only on lines holding one of these substrings (a trailing comma is followed
# by `}` / `]` or by a blank): plain substring tests, since a regex on every
# line cost a tenth of the load.
MAYBE_LAX_JSON = (",}", ",]", " }", " ]", "\t", "NaN", "Infinity")
JSON_STRING = r'"(?:[^"\\]|\\.)*"'
TRAILING_COMMA = r",\s*[}\]]"
NON_NUMBER = r"\b(NaN|-?Infinity)\b"
# A JSON array file: one "line" per element (its ordinal stands in for the line).
READ_ARRAY = """
    select row_number() over () as line_no, json::varchar as line
    from read_json_objects($path, format = 'array', compression = 'auto')
"""


# -- where fields are read -------------------------------------------------------------

FIELD_KEYS = ("timestamp", "user_email", "user_id", "tool", "event", "event_id")


def _names(value: Any, key: str) -> tuple[str, ...]:
    """A field as alternatives: a name, or a list of names (first non-blank wins)."""
    if value is None or value == "":
        return ()
    names = (value,) if isinstance(value, str) else tuple(value) if isinstance(value, list | tuple) else None
    if not names or not all(isinstance(n, str) and n for n in names):
        raise ConfigError(f"usage: {key} must be a field name or a list of field names, not {value!r}")
    return names


@dataclass(frozen=True)
class FieldMapping:
    """Where the fields of one group of usage files are read.

    Each field is a tuple of alternatives, the first non-blank value wins. In
    JSON a name is a top-level key or, with dots, a path into nested objects
    (`properties.tool`; a top-level key that itself contains the dots wins);
    in CSV it is a header. `tool_name` gives every event of the files one
    tool; `only` keeps the lines whose fields equal the given values and
    skips the others (neither landed nor quarantined).
    """

    files: str = "*"  # glob against the path under usage/
    timestamp: tuple[str, ...] = ("timestamp",)
    user_email: tuple[str, ...] = ("user_email",)
    # Identities that are not emails (Segment userId / anonymousId, …), read when
    # no email is: they land with identity_kind 'id' and never meet the email gate.
    user_id: tuple[str, ...] = ()
    tool: tuple[str, ...] = ("tool",)
    event: tuple[str, ...] = ("event",)
    event_id: tuple[str, ...] = ("event_id",)
    tool_name: str | None = None
    only: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_usage(cls, mapping: UsageMapping) -> FieldMapping:
        """The `[usage]` section, which applies to every file."""
        return cls(**{key: _names(getattr(mapping, key), key) for key in FIELD_KEYS})

    def override(self, raw: Mapping[str, Any]) -> FieldMapping:
        """A `[[usage_files]]` table: the keys it sets, over these."""
        data = dict(raw)
        known = {"files", "tool_name", "only", *FIELD_KEYS}
        if unknown := sorted(set(data) - known):
            raise ConfigError(f"usage_files {data.get('files')!r}: unknown keys {unknown}")
        if not isinstance(data.get("files"), str) or not data["files"]:
            raise ConfigError("usage_files: each table needs files, a glob under usage/")
        only = data.pop("only", {})
        if not isinstance(only, Mapping) or not all(isinstance(v, str) for v in only.values()):
            raise ConfigError(f"usage_files {data['files']!r}: only must map field names to text values")
        fields = {key: _names(data[key], key) for key in FIELD_KEYS if key in data}
        tool_name = data.get("tool_name")
        if tool_name is not None and not (isinstance(tool_name, str) and tool_name.strip()):
            raise ConfigError(f"usage_files {data['files']!r}: tool_name must be a tool's name")
        return FieldMapping(
            files=data["files"],
            **{key: fields.get(key, getattr(self, key)) for key in FIELD_KEYS},
            tool_name=tool_name,
            only=tuple(sorted(only.items())),
        )

    def matches(self, relative_to_usage: str) -> bool:
        return fnmatch.fnmatchcase(relative_to_usage, self.files)

    def names(self, key: str) -> tuple[str, ...]:
        """Where a field is read; the identity is an email or else a user id."""
        return self.user_email + self.user_id if key == "user_email" else getattr(self, key)

    def label(self, key: str) -> str:
        return " or ".join(self.names(key)) or key

    @property
    def required(self) -> dict[str, tuple[str, ...]]:
        """The fields every event needs (the tool comes from tool_name if set)."""
        keys = ["timestamp", "user_email", "event"] + ([] if self.tool_name else ["tool"])
        return {key: self.names(key) for key in keys}


def usage_file_mappings(config_file: Path | None, base: UsageMapping) -> list[FieldMapping]:
    """The `[[usage_files]]` tables of the configuration file, in order, each
    over the `[usage]` defaults; the first whose glob matches a file wins."""
    default = FieldMapping.from_usage(base)
    if config_file is None or not config_file.exists():
        return []
    with config_file.open("rb") as fh:
        tables = tomllib.load(fh).get("usage_files", [])
    if not isinstance(tables, list):
        raise ConfigError("usage_files must be an array of tables: [[usage_files]]")
    return [default.override(table) for table in tables]


def mapping_for(
    relative_to_usage: str, base: FieldMapping, file_mappings: Sequence[FieldMapping]
) -> FieldMapping:
    return next((m for m in file_mappings if m.matches(relative_to_usage)), base)


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
    mapping: UsageMapping | FieldMapping,
    landing_dir: Path | None = None,
    file_mappings: Sequence[FieldMapping] = (),
    memory_limit: str | None = MEMORY_LIMIT,
) -> StreamStats:
    """Land every usage log under `usage_dir`; one transaction per file.

    Each file is read with the first of `file_mappings` whose glob matches its
    path under `usage_dir`, else with `mapping`. `_source_file` is stored
    relative to `landing_dir` (default: the parent of `usage_dir`, i.e.
    `usage/<name>`). A file that cannot be read at all is quarantined as a
    file, with its reason, and the others still land.
    """
    landing_dir = landing_dir or usage_dir.parent
    base = mapping if isinstance(mapping, FieldMapping) else FieldMapping.from_usage(mapping)
    stats = loader.stats.setdefault((SOURCE, STREAM), StreamStats(SOURCE))
    with duckdb_settings(con, memory_limit=memory_limit, preserve_insertion_order="false"):
        for path in find_usage_files(usage_dir):
            relative = path.relative_to(landing_dir).as_posix()
            fields = mapping_for(path.relative_to(usage_dir).as_posix(), base, file_mappings)
            counts = _land_file(loader, path, relative, fields)
            if counts is not None:  # None: unchanged since it was loaded
                stats.count_file(relative, counts)
    loader.log_stream(SOURCE, STREAM, stats)
    return stats


@contextmanager
def duckdb_settings(con: duckdb.DuckDBPyConnection, **settings: str | None) -> Iterator[None]:
    """DuckDB settings for the duration of a block, restored afterwards (they
    are global to the database instance, not the connection). DuckDB shows a
    memory limit rounded, so a value equal to the default is restored by
    RESET, exactly; another one as shown."""
    wanted = {name: value for name, value in settings.items() if value is not None}
    previous = {name: _current_setting(con, name) for name in wanted}
    for name, value in wanted.items():
        con.execute(f"set {name} = {_sql_str(value)}")
    try:
        yield
    finally:
        for name, value in previous.items():
            con.execute(f"reset {name}")
            if _current_setting(con, name) != value:
                con.execute(f"set {name} = {_sql_str(value)}")


def _current_setting(con: duckdb.DuckDBPyConnection, name: str) -> str:
    return con.execute("select current_setting(?)::varchar", [name]).fetchall()[0][0]


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


def scrub_emails(text: str) -> str:
    return EMAIL_PATTERN.sub(REDACTED, text)


# -- one file ------------------------------------------------------------------


def _land_file(loader: RawLoader, path: Path, relative: str, mapping: FieldMapping) -> FileCounts | None:
    """The four counts of the file's lines; None for a file unchanged since it landed.

    DuckDB reads the file as it is; when it cannot split it into lines (mixed
    CRLF/LF, bytes that are not UTF-8, a huge line), a line-safe copy is read
    instead (ingestion/text_files.py). A file that cannot be read at all is
    quarantined as a file.
    """
    sha256 = file_sha256(path)
    if loader.file_digest(relative) == sha256:
        log.info("usage: %s unchanged since it was loaded, skipped", relative)
        return None
    file = FileToLand(relative, sha256, STREAM)
    try:
        sniff(path)
        usage_file = UsageFile(path, relative, _file_kind(path))
        try:
            counts = _replace(loader, file, usage_file, mapping)
        except duckdb.Error:
            if usage_file.kind == "json_array":
                raise
            with tempfile.TemporaryDirectory(prefix="productops-lines-") as tmp:
                copy = Path(tmp) / "lines.txt"
                write_line_safe_copy(path, copy)
                counts = _replace(loader, file, replace(usage_file, path=copy), mapping)
    except (UnreadableFile, UsageFileError, duckdb.Error, OSError, UnicodeDecodeError) as exc:
        reason = _unreadable_reason(exc)
        log.error("usage: %s cannot be read, quarantined as a file: %s", relative, reason)
        loader.quarantine_file(SOURCE, STREAM, file, TABLE, reason)
        return FileCounts(problem=reason)
    log.info(
        "usage: %s: %d events landed, %d duplicates dropped, %d lines skipped, %d quarantined",
        usage_file.relative,
        counts.landed,
        counts.duplicates,
        counts.skipped,
        counts.rejected,
    )
    return counts


def _replace(loader: RawLoader, file: FileToLand, usage_file: UsageFile, mapping: FieldMapping) -> FileCounts:
    classified, params = _classified_sql(usage_file, mapping)
    return loader.replace_file(SOURCE, STREAM, file, TABLE, classified, params)


def _unreadable_reason(exc: BaseException) -> str:
    if isinstance(exc, UsageFileError):
        return exc.message
    if isinstance(exc, UnreadableFile):
        return str(exc)
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text (byte {exc.start + 1} of its start)"
    if isinstance(exc, duckdb.Error):
        # DuckDB quotes the offending line, which may hold an email; keep only
        # the first line of its message, scrubbed.
        return "cannot read the file: " + scrub_emails(str(exc).splitlines()[0])
    return f"cannot read the file: {type(exc).__name__}: {scrub_emails(str(exc))[:200]}"


# -- SQL: lines → fields → classification ----------------------------------------


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _json_path(field: str) -> str:
    return '$."' + field.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _scrub_sql(expr: str) -> str:
    return f"regexp_replace({expr}, {_sql_str(EMAIL_SQL_PATTERN)}, '{REDACTED}', 'g')"


def _classified_sql(usage_file: UsageFile, mapping: FieldMapping) -> tuple[str, dict]:
    """SQL yielding line_no, status (ok | rejected | skipped), reason, payload and
    the typed event columns; `$path` is its only parameter."""
    if usage_file.kind == "csv":
        fields = _csv_fields_sql(usage_file, mapping)
    else:
        source = READ_ARRAY if usage_file.kind == "json_array" else READ_LINES
        fields = _json_fields_sql(source, mapping)
    columns = {"timestamp": "ts", "user_email": "email", "tool": "tool", "event": "event"}
    any_missing = " or ".join(f"{columns[key]} is null" for key in mapping.required)
    missing = ", ".join(
        f"case when {columns[key]} is null then {_sql_str(mapping.label(key))} end"
        for key in mapping.required
    )
    ts_label = _sql_str(mapping.label("timestamp"))
    # The value is quoted in the reason (short, scrubbed) so a reader sees what was wrong.
    ts_shown = _scrub_sql("left(ts, 40)")
    # A good line passes one regex and one cast; the finer diagnosis runs only
    # on the lines that fail them (CASE evaluates a branch for its rows only).
    sql = f"""
        select line_no, reason,
               -- built for rejected lines only (a CASE branch runs for its rows alone)
               case when reason is not null then
                   case
                       when problem is null then {_mapped_payload(mapping)}
                       else {_scrub_sql(f"left(text, {PAYLOAD_CHARS})")}
                   end
               end as payload,
               case when skipped then 'skipped' when reason is null then 'ok' else 'rejected' end
                   as status,
               coalesce(event_id, sha256($file || ':' || line_no)) as event_key,
               occurred_at,
               case when identity_kind = 'email' then lower(email) else email end as user_email,
               identity_kind, tool, event
        from (
            select *,
                case
                    when skipped then null
                    when problem is not null then problem
                    when {any_missing}
                        then 'missing required field: ' || concat_ws(', ', {missing})
                    when occurred_at is not null then null
                    when regexp_full_match(ts_norm, {_sql_str(WITHOUT_OFFSET)})
                        then {ts_label} || ' has no UTC offset: "' || {ts_shown} || '"'
                    when not regexp_full_match(ts_norm, {_sql_str(WITH_OFFSET)})
                        then {ts_label} || ' is not an ISO 8601 date-time: "' || {ts_shown} || '"'
                    else {ts_label} || ' is not a valid date-time: "' || {ts_shown} || '"'
                end as reason
            from (
                select *,
                    -- without an offset DuckDB would assume one: the regex guards the cast
                    case when regexp_full_match(ts_norm, {_sql_str(WITH_OFFSET)})
                         then try_cast(ts_norm as timestamptz) end as occurred_at
                from (
                    select *, upper(ts) as ts_norm
                    from ({fields})
                )
            )
        )
    """
    return sql, {"path": str(usage_file.path)}


def _identity_sql(values: Mapping[str, str]) -> str:
    """`email` (the identity) and `identity_kind`: an email field wins, else a user id."""
    email, user_id = values["user_email"], values["user_id"]
    if user_id == "null":
        return f"{email} as email, 'email' as identity_kind"
    kind = f"case when {email} is not null then 'email' when {user_id} is not null then 'id' end"
    return f"coalesce({email}, {user_id}) as email, {kind} as identity_kind"


def _nonblank(expr: str) -> str:
    return f"nullif(trim({expr}), '')"


def _first(exprs: list[str]) -> str:
    """The first non-blank of several values, or null."""
    values = [_nonblank(e) for e in exprs]
    if not values:
        return "null"
    return values[0] if len(values) == 1 else f"coalesce({', '.join(values)})"


def _mapped_payload(mapping: FieldMapping) -> str:
    """A rejected row's mapped fields as a JSON object, nulls left out; the
    user's identity and anything unmapped (names in traits, free text) never
    reach quarantine."""
    columns = {"timestamp": "ts", "tool": "tool", "event": "event", "event_id": "event_id"}
    pairs = ", ".join(
        f"{_sql_str(mapping.label(key))}, {column}"
        for key, column in columns.items()
        if not (key == "tool" and mapping.tool_name)
    )
    return f"json_merge_patch('{{}}', json_object({pairs}))::varchar"


class _JsonPaths:
    """Collects the JSON paths to extract in one pass; hands out their positions."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def field(self, names: tuple[str, ...]) -> list[str]:
        """`f[i]` expressions for each name: the literal key, then the dotted path."""
        exprs = []
        for name in names:
            candidates = [_json_path(name)]
            if "." in name:
                candidates.append("$." + ".".join(_json_path(part)[2:] for part in name.split(".")))
            for path in candidates:
                self.paths.append(path)
                exprs.append(f"f[{len(self.paths)}]")
        return exprs

    def sql_list(self) -> str:
        return "[" + ", ".join(_sql_str(p) for p in self.paths) + "]"


def _json_fields_sql(source: str, mapping: FieldMapping) -> str:
    paths = _JsonPaths()
    values = {key: _first(paths.field(getattr(mapping, key))) for key in FIELD_KEYS}
    if mapping.tool_name:
        values["tool"] = _sql_str(mapping.tool_name)
    keep = [
        f"coalesce({_first(paths.field((name,)))}, '') = {_sql_str(value)}" for name, value in mapping.only
    ]
    skipped = f"not ({' and '.join(keep)})" if keep else "false"
    return f"""
        select line_no, problem, text,
               blank or (problem is null and {skipped}) as skipped,
               {values["timestamp"]} as ts, {_identity_sql(values)},
               {values["tool"]} as tool, {values["event"]} as event,
               {values["event_id"]} as event_id,
               text
        from (
            select *,
                -- CASE guards every JSON function: on invalid JSON they raise
                -- an error quoting the line, email included.
                case when problem is null then json_extract_string(text, {paths.sql_list()}) end as f
            from (
                select line_no, text, blank,
                    case
                        when blank then null
                        when mark is not null then mark
                        when not json_valid(text) then 'invalid JSON'
                        when json_type(text) <> 'OBJECT' then 'not a JSON object'
                        when {_contains_any("text", MAYBE_LAX_JSON)} then {_strict_json_sql("text")}
                    end as problem
                from ({_lines_sql(source)})
            )
        )
    """


def _lines_sql(source: str) -> str:
    if source == READ_LINES:
        return LINES
    return f"select line_no, null as mark, line as text, false as blank from ({source})"


def _contains_any(text: str, needles: tuple[str, ...]) -> str:
    return "(" + " or ".join(f"contains({text}, {_sql_str(n)})" for n in needles) + ")"


def _strict_json_sql(text: str) -> str:
    """Why a line DuckDB parsed is not strict JSON, or null when it is."""
    skeleton = f"regexp_replace({text}, {_sql_str(JSON_STRING)}, '\"\"', 'g')"
    return f"""case
        when regexp_matches({skeleton}, {_sql_str(TRAILING_COMMA)}) then 'invalid JSON: a trailing comma'
        when regexp_matches({skeleton}, {_sql_str(NON_NUMBER)})
            then 'invalid JSON: NaN and Infinity are not JSON numbers'
    end"""


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


def _csv_fields_sql(usage_file: UsageFile, mapping: FieldMapping) -> str:
    """CSV lines are split in SQL (one record per line, RFC 4180 quoting), so
    that every record keeps its true line number, blank lines included."""
    header, delimiter = read_csv_header(usage_file.path)

    def positions(names: tuple[str, ...]) -> list[int]:
        return [p for p in (_csv_column(header, n) for n in names) if p is not None]

    found = {key: positions(getattr(mapping, key)) for key in FIELD_KEYS}
    found["user_email"] += found.pop("user_id")  # either identity will do
    absent = [
        " or ".join(map(repr, names)) for key, names in mapping.required.items() if names and not found[key]
    ]
    absent += [repr(name) for name, _ in mapping.only if not positions((name,))]
    if absent:
        message = f"CSV header has no column {', '.join(absent)}"
        if any(re.search(r"\d{4}-\d{2}-\d{2}|@", cell) for cell in header):
            message += " (its first line holds values: the header row is missing)"
        raise UsageFileError(usage_file.relative, message)
    mapped = {name for key in FIELD_KEYS for name in getattr(mapping, key)} | {n for n, _ in mapping.only}
    for name in sorted(mapped):
        columns = [i + 1 for i, cell in enumerate(header) if cell.strip().lower() == name.lower()]
        if len(columns) > 1:
            where = " and ".join(map(str, columns))
            message = f"column {name!r} appears {len(columns)} times in the CSV header (columns {where})"
            raise UsageFileError(usage_file.relative, message)
    values = {key: _first([f"f[{p}]" for p in found[key]]) for key in FIELD_KEYS if key != "user_id"}
    values["user_email"] = _first([f"f[{p}]" for p in positions(mapping.user_email)])
    values["user_id"] = _first([f"f[{p}]" for p in positions(mapping.user_id)])
    if mapping.tool_name:
        values["tool"] = _sql_str(mapping.tool_name)
    keep = [f"coalesce({_first([f'f[{positions((n,))[0]}]'])}, '') = {_sql_str(v)}" for n, v in mapping.only]
    skipped = f"not ({' and '.join(keep)})" if keep else "false"
    d = re.escape(delimiter)
    field_re = f'(?:^|{d})("(?:[^"]|"")*"|[^{d}"]*)'
    n = len(header)
    return f"""
        select line_no, problem, text,
               blank or (problem is null and {skipped}) as skipped,
               {values["timestamp"]} as ts, {_identity_sql(values)},
               {values["tool"]} as tool, {values["event"]} as event,
               {values["event_id"]} as event_id,
               text
        from (
            select *,
                case
                    when blank then null
                    when mark is not null then mark
                    when length(text) <> list_sum(list_transform(raw, lambda x: length(x)))
                                        + len(raw) - 1
                        then 'malformed CSV line (unbalanced quotes or a multi-line record)'
                    when len(raw) <> {n}
                        then 'expected {n} CSV fields, found ' || len(raw)
                end as problem,
                list_transform(raw, lambda x: case when x[1] = '"'
                                               then replace(x[2:-2], '""', '"') else x end) as f
            from (
                select line_no, mark, text, blank,
                       regexp_extract_all(text, {_sql_str(field_re)}, 1) as raw
                from ({LINES})
                where line_no > 1
            )
        )
    """
