"""The newest pipeline run in the Dagster instance, read without importing Dagster.

`productops status` must answer in well under two seconds, and importing
Dagster alone costs more. Under the local instance settings (`dagster.yaml`
without a `storage:` block) Dagster keeps its run history in SQLite at
`$DAGSTER_HOME/history/runs.db`; this reads the newest run's id and whether a
run is in progress from it, read-only. It answers `None` whenever it cannot
be sure (another storage, an unexpected schema): the caller then asks Dagster.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

ALL_JOB_NAME = "productops_all"
# Dagster's run storage keys that move the run history away from $DAGSTER_HOME/history.
_STORAGE_KEYS = ("storage", "run_storage", "event_log_storage")
_IN_PROGRESS = ("STARTING", "STARTED", "CANCELING")


@dataclass(frozen=True)
class RunsAtAGlance:
    newest_run_id: str | None
    in_progress: bool


def _default_storage(home: Path) -> bool:
    config = home / "dagster.yaml"
    if not config.exists():
        return True
    import yaml  # PyYAML, a Dagster dependency; cheap next to Dagster itself

    try:
        settings = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(settings, dict) and not any(key in settings for key in _STORAGE_KEYS)


def glance(home: Path, job_name: str = ALL_JOB_NAME) -> RunsAtAGlance | None:
    """The newest run of `job_name` and whether one is in progress; None when unsure."""
    if not _default_storage(home):
        return None
    runs_db = home / "history" / "runs.db"
    if not runs_db.exists():
        return RunsAtAGlance(newest_run_id=None, in_progress=False)
    try:
        con = sqlite3.connect(f"{runs_db.resolve().as_uri()}?mode=ro", uri=True, timeout=1.0)
        try:
            newest = con.execute(
                "select run_id from runs where pipeline_name = ? order by id desc limit 1", [job_name]
            ).fetchall()
            marks = ",".join("?" * len(_IN_PROGRESS))
            running = con.execute(
                f"select count(*) from runs where pipeline_name = ? and status in ({marks})",
                [job_name, *_IN_PROGRESS],
            ).fetchall()
        finally:
            con.close()
    except sqlite3.Error:
        return None
    return RunsAtAGlance(newest_run_id=newest[0][0] if newest else None, in_progress=bool(running[0][0]))
