"""Read the published marts: open, query, close.

A connection is opened read-only for one query and closed at once
(`orchestration.published`). On DuckDB that matters: DuckDB keeps one database
instance per file and process while any connection to it is open, and holding
one would keep serving the file a later publish replaced. On PostgreSQL each
query runs in its own read-only transaction on schema `published`, which a
publish swaps in one transaction. The pipeline never opens the published
DuckDB file, so nothing here can stand in a run's way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ingestion.config import Secret, Settings
from orchestration import published
from orchestration.published import NotPublished, PublishedSource
from orchestration.publishing import published_record_path

__all__ = ["ORG", "NotPublished", "PublishedMarts"]

ORG = "__all__"  # team_id of the organisation roll-up rows (DESIGN.md, Growth)


@dataclass(frozen=True)
class PublishedMarts:
    """The published marts: the DuckDB file at `path`, or, with `postgres_url`, schema
    published on that server (the run record is read beside `path` either way)."""

    path: Path
    postgres_url: Secret | None = None

    @classmethod
    def of(cls, settings: Settings) -> PublishedMarts:
        source = PublishedSource.of(settings)
        return cls(source.path, source.postgres_url)

    @property
    def source(self) -> PublishedSource:
        return PublishedSource(self.path, self.postgres_url)

    @property
    def where(self) -> str:
        return self.source.where

    def check(self) -> None:
        if self.postgres_url is None:
            if not self.path.exists():
                raise NotPublished(
                    f"no published marts at {self.path}: run `make run` (or `productops run`) first; "
                    "a run publishes only when every gate passed"
                )
        else:
            with published.connect(self.source):  # NotPublished, saying what to run, when nothing is
                pass

    @property
    def version(self) -> tuple:
        """Changes whenever a run publishes: caches key on it."""
        return published.version(self.source)

    @property
    def published_at(self) -> datetime:
        return published.published_at(self.source)

    def frame(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        return published.frame(self.source, sql, params)

    def columns(self, table: str) -> set[str]:
        rows = self.frame(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
            [self.source.schema, table],
        )
        return set(rows["column_name"])

    def has(self, table: str) -> bool:
        return not self.frame(
            "select 1 from information_schema.tables where table_schema = ? and table_name = ?",
            [self.source.schema, table],
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
