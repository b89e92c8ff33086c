"""What a connector hands the loader: one page of rows at a time."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Rejected:
    """A record that could not be landed, with why and where it came from."""

    stream: str
    locator: str  # file:line, or url#page
    reason: str
    payload: str | None = None  # raw text with identity fields removed


@dataclass
class FileCounts:
    """What became of every line of one file: the four fates add up to its lines."""

    landed: int = 0
    duplicates: int = 0  # dropped: the same key landed already (earlier line or file)
    skipped: int = 0  # blank, or left out by the file's mapping
    rejected: int = 0  # quarantined in raw.rejected_records with file:line
    problem: str | None = None  # why the file could not be read at all (then no line counts)

    @property
    def lines(self) -> int:
        return self.landed + self.duplicates + self.skipped + self.rejected

    def add(self, other: FileCounts) -> None:
        self.landed += other.landed
        self.duplicates += other.duplicates
        self.skipped += other.skipped
        self.rejected += other.rejected


@dataclass(frozen=True)
class FileToLand:
    """A file (or a set of exports landed as one) and its digest, as `raw.loaded_files` keeps it."""

    path: str  # relative to the landing folder: `_source_file`, locators' prefix
    digest: str
    stream: str
    counts: FileCounts = field(default_factory=FileCounts)


@dataclass
class Page:
    """Rows for one or more raw tables, landed in one transaction (with the pages batched beside it).

    `cursors` maps a stream name to the cursor value that is safe to resume
    from once this page is committed.
    """

    locator: str
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)
    cursors: dict[str, str] = field(default_factory=dict)
    # Keys of a raw table whose earlier rows this page replaces (e.g. a file
    # whose content changed): {table: (column, [values])}.
    replaces: dict[str, tuple[str, list[Any]]] = field(default_factory=dict)
    # Files whose earlier quarantined records this page replaces (locator prefixes, `file:`).
    replaces_rejected: list[str] = field(default_factory=list)
    # Files (or exports landed together) this page completes: kept in raw.loaded_files.
    files: list[FileToLand] = field(default_factory=list)
    # Rows that count as landed records, when some tables hold parts of them
    # (a survey response's answers); None: every row counts.
    records: int | None = None

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.rows.setdefault(table, []).append(row)

    @property
    def row_count(self) -> int:
        return sum(len(rows) for rows in self.rows.values())

    @property
    def replaces_earlier(self) -> bool:
        return bool(self.replaces or self.replaces_rejected)

    @property
    def landed_count(self) -> int:
        return self.row_count if self.records is None else self.records


class SourceError(RuntimeError):
    """A source failed in a way a retry will not fix; names source and place."""

    def __init__(self, source: str, where: str, message: str):
        super().__init__(f"{source}: {message} ({where})")
        self.source = source
        self.where = where
