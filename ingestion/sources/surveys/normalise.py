"""Shared reading rules for survey exports: text, questions, numbers, dates.

Exports reach us re-saved by spreadsheets in other locales, so everything
here is lenient about form (BOM, `;`, decimal commas, typographic quotes) and
strict about meaning (an answer is a number on the scale, or nothing).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path

DELIMITERS = (",", ";", "\t")
# Answers that say "no answer" (compared normalised): never a score, never quarantined.
NO_ANSWER_LABELS = [
    "", "N/A", "NA", "-", "Not applicable", "Don't know", "Do not know", "I don't know",
    "Prefer not to say", "Non applicable", "Sans objet", "Je ne sais pas", "Ne sais pas", "NSP",
    "Sans opinion", "Je préfère ne pas répondre",
]  # fmt: skip

_APOSTROPHES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u2032": "'", "`": "'"})
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u00ab": '"', "\u00bb": '"'})
_WHITESPACE = re.compile(r"\s+")
# A leading number, then nothing or a label after a separator: "5", "4,5", "5 - Strongly agree".
_LEADING_NUMBER = re.compile(r"([+-]?\d+(?:[.,]\d+)?)(?:$|[\s\-–—:.)/]\s*.*$)")
_EMAIL = re.compile(r"[^\s\"',;:<>()\[\]{}]+@[^\s\"',;:<>()\[\]{}]+")


class ExportError(ValueError):
    """A file that cannot be read as the export it should be (no row is landed)."""


class UnreadableExport(ExportError):
    """A file that cannot be read at all (not UTF-8, binary, truncated, no header,
    a mapped question twice): it is quarantined as a file, the other files land."""


def normalise_question(text: str) -> str:
    """The form of a question used for matching: NFKC (non-breaking and other
    exotic spaces become spaces), typographic quotes made plain, whitespace
    collapsed, case folded."""
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).translate(_QUOTES)
    return _WHITESPACE.sub(" ", text).strip().casefold()


def is_no_answer(text: str) -> bool:
    return normalise_question(text) in _NO_ANSWER


_NO_ANSWER = {normalise_question(label) for label in NO_ANSWER_LABELS}


def parse_number(text: str) -> float | None:
    """A numeric answer: None when left blank or N/A, the leading number of a
    labelled choice ("5 - Strongly agree" → 5), decimal commas accepted.
    Raises ValueError when there is an answer but no number."""
    if is_no_answer(text):
        return None
    match = _LEADING_NUMBER.fullmatch(unicodedata.normalize("NFKC", text).strip())
    if not match:
        raise ValueError("not a number")
    return float(match.group(1).replace(",", "."))


def scrub_emails(text: str) -> str:
    return _EMAIL.sub("<redacted>", text)


# -- CSV --------------------------------------------------------------------------


@dataclass
class CsvRecords:
    """The records of a CSV file, each with the line it starts on."""

    delimiter: str
    records: list[tuple[int, list[str]]] = field(default_factory=list)
    line_count: int = 0


def sniff_delimiter(text: str) -> str:
    """The character after the first header cell (quoted or not): exports start
    with a fixed column (Timestamp, Respondent ID), and counting characters
    instead would be fooled by questions that contain commas."""
    pos = 0
    if text.startswith('"'):
        pos = 1
        while True:
            end = text.find('"', pos)
            if end == -1:
                break
            if text.startswith('""', end):
                pos = end + 2
                continue
            pos = end + 1
            break
    for ch in text[pos:]:
        if ch in DELIMITERS:
            return ch
        if ch in "\r\n":
            break
    return ","


def read_csv_records(path: Path) -> CsvRecords:
    """All records of a (small) CSV export; BOM stripped, delimiter sniffed,
    CRLF and quoted multi-line cells handled by the csv module."""
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise UnreadableExport("binary data, not a CSV export (NUL bytes in its first 8 KB)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UnreadableExport(
            f"not UTF-8 text (line {line}, byte {exc.start + 1}): export it again as UTF-8 CSV"
        ) from None
    if text.count('"') % 2:  # an odd number of quotes: the file stops inside a quoted cell
        raise UnreadableExport("it ends inside a quoted cell: the file is truncated")
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    result = CsvRecords(delimiter)
    next_line = 1
    try:
        for cells in reader:
            result.records.append((next_line, cells))
            next_line = reader.line_num + 1
    except csv.Error as exc:
        raise UnreadableExport(f"malformed CSV near line {reader.line_num}: {exc}") from None
    result.line_count = reader.line_num
    if len(result.records) > 1 and not text.endswith(("\n", "\r")):
        # A last row shorter than the header, with no line end after it: cut off.
        (_, header), (line, last) = result.records[0], result.records[-1]
        if len(last) < len(header):
            raise UnreadableExport(
                f"line {line} stops after {len(last)} of {len(header)} columns: the file is truncated"
            )
    return result


# -- dates ------------------------------------------------------------------------

_DATE_TIME = re.compile(
    r"(?P<a>\d{1,4})[/.-](?P<b>\d{1,2})[/.-](?P<c>\d{1,4})[ T]+"
    r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d+)?)?"
    r"\s*(?P<ampm>[AaPp]\.?\s?[Mm]\.?)?"
    r"\s*(?P<zone>(?:GMT|UTC)?\s*[+-]\d{1,2}(?::?\d{2})?|GMT|UTC|Z)?",
    re.IGNORECASE,
)


def date_parts(text: str) -> tuple[int, int] | None:
    """The first two numbers of a D/M/Y or M/D/Y date, to infer the order."""
    match = _DATE_TIME.fullmatch(text.strip())
    if not match or len(match["a"]) == 4:
        return None
    return int(match["a"]), int(match["b"])


def infer_day_first(values: list[str], default: bool) -> bool:
    """Whether a file writes dates day first: a first number above 12 proves it,
    a second number above 12 disproves it; otherwise the locale's default."""
    parts = [p for p in map(date_parts, values) if p]
    day_first = any(a > 12 for a, _ in parts)
    month_first = any(b > 12 for _, b in parts)
    if day_first and month_first:
        raise UnreadableExport("dates are written both day-first and month-first")
    if day_first or month_first:
        return day_first
    return default


_OFFSET = re.compile(r"([+-])(\d{1,2})(?::?(\d{2}))?")


def _zone(text: str | None, local: tzinfo) -> tzinfo:
    if not text:
        return local
    offset = _OFFSET.search(text)
    if not offset:  # GMT, UTC or Z alone
        return UTC
    sign = -1 if offset[1] == "-" else 1
    return timezone(sign * timedelta(hours=int(offset[2]), minutes=int(offset[3] or 0)))


def parse_local_datetime(text: str, local: tzinfo, day_first: bool) -> datetime:
    """A spreadsheet date-time ("3/14/2026 9:41:02", "14/03/2026 09:41",
    "03/14/2026 09:41:02 AM", "2026/03/14 9:41:02 AM GMT+1") as a UTC instant.
    Times without a zone are wall-clock times in `local`; an ambiguous time at
    the autumn change is read as the first of the two (fold=0)."""
    match = _DATE_TIME.fullmatch(text.strip())
    if not match:
        raise ValueError("not a date-time")
    a, b, c = int(match["a"]), int(match["b"]), int(match["c"])
    if len(match["a"]) == 4:
        year, month, day = a, b, c
    elif day_first:
        day, month, year = a, b, c
    else:
        month, day, year = a, b, c
    if year < 100:
        year += 2000
    hour, minute, second = int(match["H"]), int(match["M"]), int(match["S"] or 0)
    if match["ampm"]:
        if not 1 <= hour <= 12:
            raise ValueError("hour out of range for AM/PM")
        hour = hour % 12 + (12 if match["ampm"][0].upper() == "P" else 0)
    moment = datetime(year, month, day, hour, minute, second, tzinfo=_zone(match["zone"], local))
    return moment.astimezone(UTC)
