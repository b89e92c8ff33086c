"""One survey export, whatever tool produced it: its columns and its rows.

The format readers (`google_forms`, `surveymonkey`, `typeform`) build a
`SurveyExport`; `land` resolves the mapping's questions against its columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from ingestion.sources.surveys.normalise import (
    ExportError,
    UnreadableExport,
    infer_day_first,
    normalise_question,
    parse_local_datetime,
    scrub_emails,
)

# Sub-labels (SurveyMonkey's second header row) under which a question's own
# answer sits, as opposed to an "Other (please specify)" text or a matrix row.
PRIMARY_SUBLABELS = {"", "response", "open-ended response"}

# Tools localise the column of the collected email; a mapping written for one
# language finds it in an export of another.
EMAIL_ALIASES = {
    "email",
    "e-mail",
    "email address",
    "e-mail address",
    "adresse e-mail",
    "adresse email",
    "adresse courriel",
    "courriel",
    "e-mail-adresse",
    "dirección de correo electrónico",
    "endereço de e-mail",
    "indirizzo email",
}


@dataclass(frozen=True)
class Column:
    index: int
    question: str  # the header text (SurveyMonkey: the question over the column)
    sublabel: str = ""  # SurveyMonkey's second header row
    ref: str = ""  # Typeform: the field's stable `ref`, or a hidden field's name
    scale: tuple[float, float] | None = None  # Typeform: the scale the form defines

    @property
    def label(self) -> str:
        return f"{self.question} / {self.sublabel}" if self.sublabel else self.question


@dataclass(frozen=True)
class SurveyRow:
    line: int  # where the record starts in the file (records may span lines)
    cells: list[str]
    submitted_at: datetime | None  # UTC
    submitted_error: str | None = None

    def cell(self, column: Column | None) -> str:
        return "" if column is None else self.cell_at(column.index)

    def cell_at(self, index: int) -> str:
        return self.cells[index] if index < len(self.cells) else ""


@dataclass
class SurveyExport:
    format: str
    columns: list[Column]
    rows: list[SurveyRow]
    line_count: int
    skipped: int = 0  # blank rows, left out of `rows`

    def find(self, question: str) -> Column:
        """The column holding the answer to `question`; ExportError if it is
        absent or ambiguous."""
        wanted = normalise_question(question)
        column = self._find(wanted)
        if column is None and wanted in EMAIL_ALIASES:
            for alias in sorted(EMAIL_ALIASES - {wanted}):
                if column := self._find(alias):
                    break
        if column is None:
            raise ExportError(f'question "{question}" is not in the header')
        return column

    def _find(self, wanted: str) -> Column | None:
        by_question = [c for c in self.columns if normalise_question(c.question) == wanted]
        if not by_question:  # Typeform: a field's `ref` survives edits of its title
            by_question = [c for c in self.columns if c.ref and normalise_question(c.ref) == wanted]
        if len(by_question) > 1:  # SurveyMonkey: prefer the "Response" column
            primary = [c for c in by_question if normalise_question(c.sublabel) in PRIMARY_SUBLABELS]
            by_question = primary or by_question
        # A SurveyMonkey matrix lists its statements on the second header row.
        candidates = by_question or [
            c for c in self.columns if c.sublabel and normalise_question(c.sublabel) == wanted
        ]
        if len(candidates) > 1:
            # Duplicate column names: which one holds the answer cannot be known.
            raise UnreadableExport(
                f'question "{candidates[0].label}" appears {len(candidates)} times in the header'
                " (duplicate column names)"
            )
        return candidates[0] if candidates else None

    def other_column(self, column: Column) -> Column | None:
        """The "Other (please specify)" text column of the same question, if any."""
        for c in self.columns:
            if c.question == column.question and normalise_question(c.sublabel).startswith("other"):
                return c
        return None


def parse_submissions(
    records: list[tuple[int, list[str]]], column: int, local: tzinfo, day_first_default: bool
) -> list[SurveyRow]:
    """Rows with their submission instant (UTC); a row whose time cannot be read
    keeps the reason instead, to be quarantined. Blank rows are dropped."""
    records = [(line, cells) for line, cells in records if any(c.strip() for c in cells)]
    values = [cells[column] if column < len(cells) else "" for _, cells in records]
    day_first = infer_day_first(values, day_first_default)
    rows = []
    for (line, cells), value in zip(records, values, strict=True):
        try:
            submitted, error = parse_local_datetime(value, local, day_first), None
        except ValueError:
            shown = scrub_emails(value.strip()[:40])
            submitted, error = None, f'submission time "{shown}" is not a date-time'
        rows.append(SurveyRow(line, cells, submitted, error))
    return rows
