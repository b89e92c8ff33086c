"""`raw.loaded_files`: what a file-fed source landed last, by path and digest.

A source that reads whole files (usage logs, survey exports) records each
file's (or survey's) digest when it lands, and skips it on the next run
while the digest is unchanged. The gates' ledger overwrites the digest of a
batch that failed, so that batch is read again (orchestration/gates/ledger.py).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

import duckdb

from ingestion.raw_tables import RAW_SCHEMA


def file_sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def landed_digest(con: duckdb.DuckDBPyConnection, path: str) -> str | None:
    """The digest recorded when `path` last landed; None if it never did."""
    rows = con.execute(f"select sha256 from {RAW_SCHEMA}.loaded_files where path = ?", [path]).fetchall()
    return rows[0][0] if rows else None


def record_landed(
    con: duckdb.DuckDBPyConnection,
    path: str,
    digest: str,
    stream: str,
    rows_landed: int,
    run_id: str,
    at: datetime,
) -> None:
    con.execute(
        f"insert or replace into {RAW_SCHEMA}.loaded_files values (?, ?, ?, ?, ?, ?)",
        [path, digest, stream, rows_landed, run_id, at],
    ).fetchall()
