"""Where each `dbt build` leaves its artefacts, and how many are kept.

dagster-dbt gives every invocation its own target folder (manifest, run
results, compiled SQL, dbt.log: ~13 MB for this project). Left in
`dbt_project/target/` they filled the checkout, one folder per run. They go
under the warehouse folder instead, `<warehouse dir>/dbt/runs/<time>-<run id>/`,
and only the newest `PRODUCTOPS_DBT_RUNS_KEPT` (default 5) stay. The parse
manifest in `dbt_project/target/` is one fixed set the code location loads;
it does not grow.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

log = logging.getLogger("orchestration.dbt_artefacts")

KEEP_VARIABLE = "PRODUCTOPS_DBT_RUNS_KEPT"
DEFAULT_KEEP = 5


def runs_dir(warehouse: Path) -> Path:
    return warehouse.parent / "dbt" / "runs"


def build_target(warehouse: Path, run_id: str) -> Path:
    """A new target folder for this run's build; names sort by time."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    return runs_dir(warehouse) / f"{stamp}-{run_id[:8]}"


PARTIAL_PARSE = "partial_parse.msgpack"


def seed_partial_parse(warehouse: Path, target: Path) -> Path | None:
    """Give this build the parse state of the newest earlier build, so dbt re-parses only what
    changed. dagster-dbt would copy the project's own (from `dbt parse` with the seed templates,
    other env vars: dbt then re-parses everything, ~3-10 s); it leaves a file already there."""
    earlier = sorted(runs_dir(warehouse).glob(f"*/{PARTIAL_PARSE}"), reverse=True)
    if not earlier:
        return None
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(earlier[0], target / PARTIAL_PARSE)
    return earlier[0]


def kept() -> int:
    value = os.environ.get(KEEP_VARIABLE, "").strip()
    if not value:
        return DEFAULT_KEEP
    try:
        return max(1, int(value))
    except ValueError:
        from ingestion.config import ConfigError

        raise ConfigError(f"{KEEP_VARIABLE} must be a whole number, not {value!r}") from None


def prune(warehouse: Path, keep: int | None = None) -> list[Path]:
    """Delete all but the newest `keep` build folders; returns the ones deleted."""
    keep = kept() if keep is None else keep
    folder = runs_dir(warehouse)
    if not folder.is_dir():
        return []
    builds = sorted((p for p in folder.iterdir() if p.is_dir()), key=lambda p: p.name)
    removed = builds[:-keep] if len(builds) > keep else []
    for old in removed:
        shutil.rmtree(old, ignore_errors=True)
    if removed:
        log.debug("removed %d old dbt build folders under %s", len(removed), folder)
    return removed
