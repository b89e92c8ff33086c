"""Read the published marts: open, query, close.

A connection is opened read-only for one query and closed at once. DuckDB keeps
one database instance per file and process while any connection to it is open;
holding one would keep serving the file a later publish replaced (the rename
leaves the old inode to whoever holds it open). Opening per query always reads
the newest published copy, and the pipeline never opens the published file, so
nothing here can stand in a run's way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from orchestration.publishing import MARTS_SCHEMA, published_record_path

ORG = "__all__"  # team_id of the organisation roll-up rows (DESIGN.md, Growth)


class NotPublished(Exception):
    """There is no published file to read yet."""


@dataclass(frozen=True)
class PublishedMarts:
    path: Path

    def check(self) -> None:
        if not self.path.exists():
            raise NotPublished(
                f"no published marts at {self.path}: run `make run` (or `productops run`) first; "
                "a run publishes only when every gate passed"
            )

    @property
    def version(self) -> tuple[int, int]:
        """Changes whenever a run publishes: caches key on it."""
        stat = self.path.stat()
        return stat.st_mtime_ns, stat.st_size

    @property
    def published_at(self) -> datetime:
        return datetime.fromtimestamp(self.path.stat().st_mtime, UTC)

    def frame(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        self.check()
        con = duckdb.connect(str(self.path), read_only=True, config={"enable_external_access": False})
        try:
            con.execute(f"set search_path = '{MARTS_SCHEMA}'")
            return con.execute(sql, params or []).df()
        finally:
            con.close()

    def columns(self, table: str) -> set[str]:
        rows = self.frame(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
            [MARTS_SCHEMA, table],
        )
        return set(rows["column_name"])

    def has(self, table: str) -> bool:
        return not self.frame(
            "select 1 from information_schema.tables where table_schema = ? and table_name = ?",
            [MARTS_SCHEMA, table],
        ).empty

    def run_record(self) -> dict[str, Any] | None:
        """The record of the run that published these marts (written beside them at publish time)."""
        path = published_record_path(self.path)
        if not path.exists():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            return None
