"""The gate ledger follows the files: a file that is gone takes its unvalidated rows with it.

A usage log whose batch failed a gate keeps its rows in raw until a later run
passes them. If the user removes the file instead of fixing it, nothing would
ever pass them: every later run would re-check the same rows and fail again.
So before a file source lands, each file it recorded in `raw.loaded_files`
that is no longer in the landing folder loses the rows no gate has passed and
its quarantined records from those runs, in one transaction
(`RawLoader.forget_file`), and the run says so. Rows of a removed file that a
gate already passed stay: they are history, as for survey exports.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from ingestion.loader import RawLoader
from ingestion.raw_tables import RAW_SCHEMA
from orchestration.gates.ledger import AUDIT_SCHEMA, VALIDATED, ensure_ledger

log = logging.getLogger("orchestration.gates.gone_files")


@dataclass(frozen=True)
class GoneFile:
    path: str  # relative to the landing folder, as in raw.loaded_files
    rows_removed: int
    rejected_removed: int

    def describe(self) -> str:
        return (
            f"{self.path} is gone from the landing folder: its {self.rows_removed} rows no gate had "
            f"passed and {self.rejected_removed} quarantined records were removed"
        )


def forget_gone_files(
    loader: RawLoader, landing_dir: Path, source: str, stream: str, raw_table: str
) -> list[GoneFile]:
    """Drop the unvalidated rows of every file of `source`/`stream` that left `landing_dir`."""
    con = loader.con
    ensure_ledger(con)
    validated = [
        run_id
        for (run_id,) in con.execute(
            f"select run_id from {AUDIT_SCHEMA}.batches where source = ? and status in {VALIDATED}", [source]
        ).fetchall()
    ]
    known = con.execute(
        f"select path from {RAW_SCHEMA}.loaded_files"
        " where stream = ? and (source = ? or source is null) order by path",
        [stream, source],
    ).fetchall()
    gone = []
    for (path,) in known:
        if (landing_dir / path).exists():
            continue
        rows, rejected = loader.forget_file(source, stream, raw_table, path, validated)
        if rows or rejected:
            found = GoneFile(path, rows, rejected)
            log.warning("[%s] %s", source, found.describe())
            gone.append(found)
    return gone
