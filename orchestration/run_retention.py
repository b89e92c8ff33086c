"""Run history retention for the Dagster instance under $DAGSTER_HOME.

Each run adds about 4 MB of event log to the instance (SQLite files under
`$DAGSTER_HOME/history` and captured step output under `storage/`). Dagster's
own `retention:` setting in dagster.yaml purges schedule and sensor ticks only
(its 1.13 config schema has `schedule`, `sensor` and `auto_materialize`, no
runs), so `productops run` prunes finished runs itself after each run:
runs older than `PRODUCTOPS_RUN_HISTORY_DAYS` (default 30) go, but the newest
`MIN_RUNS_KEPT` always stay, whatever their age.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

log = logging.getLogger("orchestration.run_retention")

DAYS_VARIABLE = "PRODUCTOPS_RUN_HISTORY_DAYS"
DEFAULT_DAYS = 30
MIN_RUNS_KEPT = 20


def history_days() -> int:
    value = os.environ.get(DAYS_VARIABLE, "").strip()
    if not value:
        return DEFAULT_DAYS
    try:
        return max(0, int(value))
    except ValueError:
        from ingestion.config import ConfigError

        raise ConfigError(f"{DAYS_VARIABLE} must be a whole number of days, not {value!r}") from None


def prune_runs(
    instance: Any, days: int | None = None, keep: int = MIN_RUNS_KEPT, now: datetime | None = None
) -> int:
    """Delete finished runs started more than `days` ago, except the newest `keep`; returns how many."""
    import dagster as dg

    days = history_days() if days is None else days
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    finished = [
        dg.DagsterRunStatus.SUCCESS,
        dg.DagsterRunStatus.FAILURE,
        dg.DagsterRunStatus.CANCELED,
    ]
    records = instance.get_run_records(filters=dg.RunsFilter(statuses=finished), order_by="create_timestamp")
    # Newest first by default: the first `keep` stay whatever their age.
    deleted = 0
    for record in records[keep:]:
        created = record.create_timestamp
        if created.tzinfo is None:  # SQLite storage gives naive UTC
            created = created.replace(tzinfo=UTC)
        if created >= cutoff:
            continue
        run_id = record.dagster_run.run_id
        instance.delete_run(run_id)
        instance.compute_log_manager.delete_logs(prefix=[run_id])
        # SQLite keeps one event-log file per run; delete_run empties it but leaves the file.
        shard = Path(instance.root_directory) / "history" / "runs" / f"{run_id}.db"
        if shard.is_file():
            shard.unlink()
        deleted += 1
    if deleted:
        log.info("[history] removed %d runs older than %d days from the Dagster instance", deleted, days)
    return deleted
