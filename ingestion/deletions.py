"""Deletion sweeps: raw rows whose keys vanished from the source are flagged.

A connector lists the keys of everything in its scope (keys only, so it is
cheap). Only a complete list counts: if reading it fails part-way, the error
propagates before anything is marked. Then, in one transaction, the scope's
rows missing from the list get `is_deleted = true` and `deleted_at`, and rows
flagged earlier whose key is back are restored (`RawLoader.flag_deleted`). Flagged rows stay in raw
(staging leaves them out), so a wrong flag is undone by the next sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

from ingestion.loader import RawLoader
from ingestion.raw_tables import RAW_SCHEMA

log = logging.getLogger(__name__)


@dataclass
class SweepStats:
    source: str
    table: str
    pages: int = 0
    keys_seen: int = 0
    marked_deleted: int = 0
    restored: int = 0
    skipped: str | None = None  # why nothing was marked, when nothing was


def sweep_deletions(
    target: RawLoader | duckdb.DuckDBPyConnection,
    source: str,
    table: str,
    key_column: str,
    key_pages: Iterable[list[Any]],
    *,
    scope: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> SweepStats:
    """Flag the rows of `raw.<table>` (within `scope`) whose key is not in `key_pages`."""
    stats = SweepStats(source, table)
    keys: list[str] = []
    for page in key_pages:  # a failure here leaves every row as it was
        stats.pages += 1
        keys.extend(str(key) for key in page)
    stats.keys_seen = len(set(keys))
    if not keys:
        where = " and ".join(f"{column} = ?" for column in (scope or {})) or "true"
        scope_values = list((scope or {}).values())
        con = target.con if isinstance(target, RawLoader) else target
        live = con.execute(
            f"select count(*) from {RAW_SCHEMA}.{table} where not is_deleted and {where}", scope_values
        ).fetchall()[0][0]
        if live:
            # An empty answer is what a token that lost access looks like too.
            stats.skipped = f"the source listed no keys while {live} rows are live; nothing marked"
            log.warning("%s/%s deletion sweep: %s", source, table, stats.skipped)
            return stats
    loader = target if isinstance(target, RawLoader) else RawLoader(target, run_id="deletion-sweep")
    stats.marked_deleted, stats.restored = loader.flag_deleted(
        table, key_column, keys, scope or {}, now or datetime.now(UTC)
    )
    log.info(
        "%s/%s deletion sweep: %d keys listed, %d rows flagged deleted, %d restored",
        source,
        table,
        stats.keys_seen,
        stats.marked_deleted,
        stats.restored,
    )
    return stats
