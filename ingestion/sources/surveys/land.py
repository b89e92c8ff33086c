"""Survey exports → raw.survey_responses / survey_answers.

Per survey mapping, all its exports are read (they are small): the files of
`<landing>/surveys/` that match its glob (Google Forms, SurveyMonkey), or the
form it names in Typeform's Responses API. Each row becomes a response keyed
by survey, wave and pseudonymous respondent, and the whole survey lands as
one page (one transaction) that replaces what its exports landed before; a
re-run is therefore idempotent, quarantined rows included. A file survey
whose exports, mapping and salt are all as they were when it last landed is
skipped (its fingerprint is kept in `raw.loaded_files`). Identities are
hashed as soon as they are read: no email or name is ever stored, logged or
put in an exception, and a quarantined row keeps only its mapped answers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb

from ingestion.config import Labels, Secret, SurveyMapping
from ingestion.loader import RawLoader, StreamStats, file_sha256
from ingestion.pages import FileCounts, FileToLand, Page, Rejected, SourceError
from ingestion.pseudonyms import respondent_key, stable_hash
from ingestion.raw_tables import RAW_SCHEMA
from ingestion.sources.surveys.export import Column, SurveyExport, SurveyRow
from ingestion.sources.surveys.google_forms import read_google_forms
from ingestion.sources.surveys.normalise import (
    ExportError,
    UnreadableExport,
    is_no_answer,
    scrub_emails,
)
from ingestion.sources.surveys.scales import label_scores, parse_answer
from ingestion.sources.surveys.surveymonkey import read_surveymonkey
from ingestion.sources.surveys.typeform import TypeformConnector, read_typeform

log = logging.getLogger(__name__)

SOURCE = "surveys"
STREAM = "responses"
RECOMMEND_ITEM = "recommend"
# Part of every survey's fingerprint: bump it when the reading of exports
# changes, so that unchanged files are read again by the new code.
READER_VERSION = "2"

# The identity column a format always exports, used when the mapping names none:
# SurveyMonkey numbers every respondent even when it collects no email.
DEFAULT_RESPONDENT = {"surveymonkey": "Respondent ID"}

READERS: dict[str, Callable[[Path, tzinfo], SurveyExport]] = {
    "google_forms": read_google_forms,
    "surveymonkey": read_surveymonkey,
}


class SurveyFileError(SourceError):
    """A survey that cannot be landed (unreadable file, unknown question, …)."""

    def __init__(self, where: str, message: str):
        super().__init__(SOURCE, where, message)
        self.message = message


@dataclass(frozen=True)
class ExportSource:
    """One export of a survey: a file, or a Typeform form.

    `read` returns the export and the name `wave_pattern` is matched against:
    the file name, or the form title.
    """

    source_file: str  # `_source_file` and the quarantine locators' prefix
    read: Callable[[], tuple[SurveyExport, str]]
    path: Path | None = None  # the file; None for an API (always read)


@dataclass(frozen=True)
class Item:
    """A mapped numeric question, resolved to its column in one export."""

    id: str
    kind: str  # likert | recommend | numeric
    question: str
    scale: tuple[float, float]
    column: Column
    labels: Mapping[str, float] = field(default_factory=dict)  # label → score (Likert items)


@dataclass(frozen=True)
class Resolved:
    """A survey mapping resolved against one export's header."""

    respondent: Column | None
    team: Column | None
    team_other: Column | None
    items: list[Item]
    payload_columns: list[int]  # what a quarantined row keeps: its mapped answers only
    labels: list[str]  # each column's header, for quarantine payloads


@dataclass(frozen=True)
class FileContext:
    """What every row of one export file is read with."""

    mapping: SurveyMapping
    salt: Secret
    local: tzinfo
    resolved: Resolved
    source_file: str
    wave: str | None  # None: the quarter of each submission
    file_no: int


@dataclass
class Response:
    order: tuple[int, int]  # (file, line): the later row wins a tie
    row: dict
    answers: list[dict]


def land_surveys(
    con: duckdb.DuckDBPyConnection,
    loader: RawLoader,
    surveys_dir: Path,
    mappings: tuple[SurveyMapping, ...],
    salt: Secret,
    landing_dir: Path | None = None,
    typeform: TypeformConnector | None = None,
) -> StreamStats:
    """Land every mapped survey, one page per survey.

    File surveys are read under `surveys_dir`, with `_source_file` relative to
    `landing_dir` (default: the parent of `surveys_dir`); Typeform surveys
    through `typeform`, with `_source_file` `typeform/<form_id>`. A survey
    that cannot be read lands nothing; the others still land and the
    failures are raised together at the end.
    """
    landing_dir = landing_dir or surveys_dir.parent
    failures: list[str] = []

    def pages() -> Iterator[Page]:
        for mapping in mappings:
            try:
                sources = _export_sources(mapping, surveys_dir, landing_dir, typeform)
                if not sources:
                    continue
                fingerprint = survey_fingerprint(mapping, sources, salt)
                landed = loader.file_digest(_fingerprint_key(mapping.id))
                if fingerprint is not None and fingerprint == landed:
                    log.info("surveys/%s: exports unchanged since they were landed, skipped", mapping.id)
                    continue
                page, counts = build_page(loader.con, mapping, sources, salt)
            except SurveyFileError as exc:
                failures.append(f"{exc.where}: {exc.message}")
                continue
            except SourceError as exc:  # the API failed: name it, keep the other surveys
                failures.append(f"{mapping.id}: {exc}")
                continue
            if fingerprint is not None:  # recorded with the page, in its transaction
                page.files.append(FileToLand(_fingerprint_key(mapping.id), fingerprint, STREAM, counts))
            log.info(
                "surveys/%s: %d exports: %d responses landed, %d duplicates dropped, %d blank rows"
                " skipped, %d rows rejected",
                mapping.id,
                len(sources),
                counts.landed,
                counts.duplicates,
                counts.skipped,
                counts.rejected,
            )
            yield page

    stats = loader.land(SOURCE, STREAM, pages())
    if failures:
        raise SourceError(
            SOURCE,
            str(surveys_dir),
            f"{len(failures)} survey(s) not loaded: " + "; ".join(failures),
        )
    return stats


def _export_sources(
    mapping: SurveyMapping,
    surveys_dir: Path,
    landing_dir: Path,
    typeform: TypeformConnector | None,
) -> list[ExportSource]:
    """The exports of one survey; empty (and logged) when it has none yet."""
    if mapping.format == "typeform":
        if not mapping.form_id:
            raise SurveyFileError(mapping.id, "a typeform survey needs form_id")
        if typeform is None:
            raise SurveyFileError(mapping.id, "a typeform survey needs TYPEFORM_TOKEN in the environment")
        return [_typeform_source(typeform, mapping.id, mapping.form_id)]
    if mapping.format not in READERS:
        raise SurveyFileError(
            mapping.id, f"unknown format {mapping.format!r} (google_forms, surveymonkey or typeform)"
        )
    files = sorted(p for p in surveys_dir.glob(mapping.files) if p.is_file()) if surveys_dir.is_dir() else []
    if not files:
        log.info("surveys/%s: no file matches %s", mapping.id, mapping.files)
    local = _time_zone(mapping)
    reader = READERS[mapping.format]
    return [
        ExportSource(
            path.relative_to(landing_dir).as_posix(), lambda p=path: (reader(p, local), p.name), path
        )
        for path in files
    ]


def survey_fingerprint(mapping: SurveyMapping, sources: list[ExportSource], salt: Secret) -> str | None:
    """What one landing of a file survey depends on, hashed; None for an API survey.

    Keyed with the salt (HMAC) so a new salt re-lands every survey under new
    respondent keys without the salt being recoverable from the fingerprint.
    """
    if any(source.path is None for source in sources):
        return None
    digest = hmac.new(salt.value.encode("utf-8"), digestmod=hashlib.sha256)
    digest.update(f"{READER_VERSION}\n{mapping!r}\n".encode())
    for source in sources:
        content = file_sha256(source.path)  # type: ignore[arg-type]  (checked above)
        digest.update(f"{source.source_file}\t{content}\n".encode())
    return digest.hexdigest()


def _fingerprint_key(survey_id: str) -> str:
    return f"{SOURCE}:{survey_id}"


def _typeform_source(connector: TypeformConnector, survey_id: str, form_id: str) -> ExportSource:
    def read() -> tuple[SurveyExport, str]:
        form = read_typeform(connector, form_id)
        if form.never_submitted:
            log.info("surveys/%s: %d responses never submitted, ignored", survey_id, form.never_submitted)
        return form.export, form.title

    return ExportSource(f"typeform/{form_id}", read)


def build_page(
    con: duckdb.DuckDBPyConnection,
    mapping: SurveyMapping,
    sources: list[ExportSource],
    salt: Secret,
) -> tuple[Page, FileCounts]:
    """The page for one survey (`records`: the responses it lands) and what became
    of its exports' rows: landed, duplicates dropped, blank rows skipped, rejected."""
    local = _time_zone(mapping)
    if mapping.wave_from not in ("filename", "quarter"):
        raise SurveyFileError(mapping.id, f"unknown wave_from {mapping.wave_from!r}")
    page = Page(locator=f"{SOURCE}/{mapping.id}")
    counts = FileCounts()
    candidates: dict[str, Response] = {}
    source_files = [source.source_file for source in sources]
    readable: list[str] = []
    for file_no, source in enumerate(sources):
        try:
            export, name = source.read()
            resolved = resolve(mapping, export)
            wave = _wave_from_name(mapping, name) if mapping.wave_from == "filename" else None
        except UnreadableExport as exc:
            if source.path is None:  # an API form: nothing to quarantine, the survey fails
                raise SurveyFileError(source.source_file, f"survey {mapping.id!r}: {exc}") from None
            _quarantine_export(page, mapping, source, str(exc))
            continue
        except ExportError as exc:  # the mapping does not fit (a question missing): fix the TOML
            raise SurveyFileError(source.source_file, f"survey {mapping.id!r}: {exc}") from None
        readable.append(source.source_file)
        context = FileContext(mapping, salt, local, resolved, source.source_file, wave, file_no)
        counts.skipped += export.skipped
        seen: set[tuple[str, ...]] = set()
        for row in export.rows:
            # An exact copy of an earlier row (an export appended twice) is dropped
            # and counted before anything could quarantine it.
            if tuple(row.cells) in seen:
                counts.duplicates += 1
                continue
            seen.add(tuple(row.cells))
            outcome = _response(context, row)
            if isinstance(outcome, Rejected):
                page.rejected.append(outcome)
                continue
            best = candidates.get(outcome.row["response_key"])
            if best is not None:
                counts.duplicates += 1  # one response per respondent and wave: the other is dropped
            if best is None or _newer(outcome, best):
                candidates[outcome.row["response_key"]] = outcome

    # Rows landed earlier from exports that are gone (a file removed from the
    # landing folder) stay; a later submission among them still beats one read now.
    earlier = con.execute(
        f"select response_key, submitted_at, _source_file from {RAW_SCHEMA}.survey_responses"
        " where survey_id = ?",
        [mapping.id],
    ).fetchall()
    replaced = [key for key, _, source in earlier if source in source_files]
    kept = {key: submitted for key, submitted, source in earlier if source not in source_files}
    for response in candidates.values():
        key = response.row["response_key"]
        if key in kept and kept[key] > response.row["submitted_at"]:
            counts.duplicates += 1
            continue
        page.add("survey_responses", response.row)
        for answer in response.answers:
            page.add("survey_answers", answer)
    page.replaces = {
        "survey_responses": ("_source_file", source_files),
        "survey_answers": ("response_key", replaced),
        # A file quarantined before and readable now: its "unreadable" entry goes.
        "loaded_files": ("path", readable),
    }
    # A re-run quarantines the same rows again: replace them, do not repeat
    # them, including those of rows an export no longer has.
    page.replaces_rejected = [f"{source_file}:" for source_file in source_files]
    page.records = counts.landed = len(page.rows.get("survey_responses", []))
    counts.rejected = len(page.rejected) - len(page.files)  # rows; each unreadable file has its own entry
    return page, counts


def _quarantine_export(page: Page, mapping: SurveyMapping, source: ExportSource, reason: str) -> None:
    """One export that cannot be read at all: quarantined as a file (its path as
    locator, no payload), listed with its reason in `raw.loaded_files`; what it
    landed before is replaced (the page replaces every export of the survey)."""
    log.error(
        "surveys/%s: %s cannot be read, quarantined as a file: %s", mapping.id, source.source_file, reason
    )
    page.rejected.append(Rejected(STREAM, source.source_file, f"{source.source_file}: {reason}"))
    digest = file_sha256(source.path)  # type: ignore[arg-type]  (a file export)
    page.files.append(FileToLand(source.source_file, digest, STREAM, FileCounts(problem=reason)))


def resolve(mapping: SurveyMapping, export: SurveyExport) -> Resolved:
    """Find each mapped question in the export; ExportError names a missing one."""
    respondent_question = mapping.respondent_question or DEFAULT_RESPONDENT.get(mapping.format)
    respondent = export.find(respondent_question) if respondent_question else None
    team = export.find(mapping.team_question) if mapping.team_question else None
    items = [
        _item(i.id, "likert", i.question, i.scale, export, mapping.labels, i.labels) for i in mapping.likert
    ]
    if mapping.recommend_question:
        items.append(
            _item(RECOMMEND_ITEM, "recommend", mapping.recommend_question, mapping.recommend_scale, export)
        )
    items += [_item(i.id, "numeric", i.question, i.range, export) for i in mapping.numeric]
    team_other = export.other_column(team) if team else None
    mapped = {c.index for c in (team, team_other, *(i.column for i in items)) if c is not None}
    # Free text and identity columns never reach a payload: a comment may name someone.
    payload_columns = sorted(mapped - ({respondent.index} if respondent else set()))
    labels = [c.label for c in export.columns]
    return Resolved(respondent, team, team_other, items, payload_columns, labels)


def _item(
    item_id: str,
    kind: str,
    question: str,
    scale: tuple[float, float],
    export: SurveyExport,
    *labels: Labels,
) -> Item:
    """A mapped numeric question; a scale the export defines (Typeform) wins over the mapping's.
    A Likert item also reads answer labels (built-in scales, then the survey's, then its own)."""
    column = export.find(question)
    if column.scale is not None and tuple(column.scale) != tuple(scale):
        log.info("surveys: %r uses the form's scale %g–%g", item_id, *column.scale)
    scale = column.scale or scale
    scores = label_scores(scale, *(dict(pairs) for pairs in labels)) if kind == "likert" else {}
    return Item(item_id, kind, question, scale, column, scores)


def _response(context: FileContext, row: SurveyRow) -> Response | Rejected:
    mapping, resolved = context.mapping, context.resolved
    where = f"{context.source_file}:{row.line}"

    def reject(reason: str) -> Rejected:
        return Rejected(STREAM, where, f"{where}: {reason}", _payload(row, resolved))

    if row.submitted_at is None:
        return reject(row.submitted_error or "no submission time")
    answers = []
    for item in resolved.items:
        text = row.cell(item.column)
        try:
            value = parse_answer(text, item.labels)
        except ValueError:
            # The text itself is not repeated: a mis-mapped column could hold a name.
            known = " or a known label" if item.kind == "likert" else ""
            return reject(f'answer to "{item.question}" is not a number{known}')
        low, high = item.scale
        if value is not None and not low <= value <= high:
            return reject(f'answer to "{item.question}" is outside the scale {low:g}–{high:g}: {value:g}')
        answers.append((item, value))

    identity = row.cell(resolved.respondent).strip()
    if identity:
        respondent = respondent_key(context.salt, mapping.id, identity)
    else:  # anonymous: each row is its own respondent
        respondent = stable_hash("anonymous", mapping.id, context.source_file, str(row.line))
    survey_wave = context.wave or _quarter(row.submitted_at.astimezone(context.local))
    response_key = stable_hash(mapping.id, survey_wave, respondent)
    return Response(
        order=(context.file_no, row.line),
        row={
            "response_key": response_key,
            "survey_id": mapping.id,
            "survey_format": mapping.format,
            "survey_wave": survey_wave,
            "submitted_at": row.submitted_at,
            "respondent_key": respondent,
            "team_answer": _team_answer(row, resolved),
            "_source_file": context.source_file,
            "_line_number": row.line,
        },
        answers=[
            {
                "response_key": response_key,
                "item_id": item.id,
                "item_kind": item.kind,
                "answer_value": value,  # None when left blank: never 0
                "scale_min": item.scale[0],
                "scale_max": item.scale[1],
            }
            for item, value in answers
        ],
    )


def _newer(a: Response, b: Response) -> bool:
    """One response per respondent per wave: the latest submission wins."""
    return (a.row["submitted_at"], a.order) > (b.row["submitted_at"], b.order)


def _team_answer(row: SurveyRow, resolved: Resolved) -> str | None:
    for column in (resolved.team, resolved.team_other):
        text = row.cell(column).strip()
        if column is not None and not is_no_answer(text):
            return text
    return None


def _payload(row: SurveyRow, resolved: Resolved) -> str:
    """The quarantined row's mapped answers by column header: no identity, no free text."""
    cells = {}
    for index in resolved.payload_columns:
        label = resolved.labels[index] if index < len(resolved.labels) else ""
        cells[label if label and label not in cells else f"column {index + 1}"] = row.cell_at(index)
    return scrub_emails(json.dumps(cells, ensure_ascii=False))


def _quarter(moment: datetime) -> str:
    return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"


def _wave_from_name(mapping: SurveyMapping, name: str) -> str:
    """The wave from a file name (or a Typeform form title)."""
    match = re.search(mapping.wave_pattern, name)
    if not match:
        what = "form title" if mapping.format == "typeform" else "file name"
        raise ExportError(f"{what} does not match wave_pattern {mapping.wave_pattern!r}")
    return match.group(1) if match.groups() else match.group(0)


def _time_zone(mapping: SurveyMapping) -> tzinfo:
    try:
        return ZoneInfo(mapping.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SurveyFileError(mapping.id, f"unknown time_zone {mapping.time_zone!r}") from None
