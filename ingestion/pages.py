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

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.rows.setdefault(table, []).append(row)

    @property
    def row_count(self) -> int:
        return sum(len(rows) for rows in self.rows.values())


class SourceError(RuntimeError):
    """A source failed in a way a retry will not fix; names source and place."""

    def __init__(self, source: str, where: str, message: str):
        super().__init__(f"{source}: {message} ({where})")
        self.source = source
        self.where = where
