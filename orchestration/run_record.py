"""What a run did, in a form the CLI can read without Dagster.

`productops run` writes `<warehouse dir>/logs/last_run.json` at the end of every
run, passed or failed: the run's outcome, each source stream it landed with its
cursor, and every gate and dbt test result. `productops status` reads it back,
and the run-failure sensor builds its alert from the same event helpers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RECORD_VERSION = 1
RECORD_NAME = "last_run.json"


@dataclass(frozen=True)
class GateResult:
    """One asset check evaluation: a raw-layer gate or a dbt test."""

    asset: str
    check: str
    passed: bool
    severity: str  # ERROR blocks downstream, WARN informs
    kind: str  # gate | dbt_test
    description: str = ""

    @property
    def outcome(self) -> str:
        if self.passed:
            return "passed"
        return "warned" if self.severity == "WARN" else "failed"


@dataclass(frozen=True)
class FailedStep:
    step: str
    error: str


@dataclass
class RunRecord:
    run_id: str
    status: str  # success | failure
    started_at: str
    finished_at: str
    duration_seconds: float
    trigger: str = "cli"
    mode: str = "demo"
    warehouse: str = ""
    published: str | None = None
    published_rows: dict[str, int] = field(default_factory=dict)
    sources: list[dict[str, Any]] = field(default_factory=list)
    # What became of each file's lines (raw.loaded_files): landed, duplicate, skipped, rejected.
    files: list[dict[str, Any]] = field(default_factory=list)
    gates: list[GateResult] = field(default_factory=list)
    failed_steps: list[FailedStep] = field(default_factory=list)
    # dbt's own count of its tests (passed / failed / warned): more than the asset checks
    # in `gates`, since a singular test over several models (or none) is no asset check.
    dbt_tests: dict[str, int] = field(default_factory=dict)
    # Why dbt and publish were skipped (nothing changed since the published build), if they were.
    nothing_new: str = ""
    version: int = RECORD_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, default=str)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RunRecord:
        data = dict(raw)
        data["gates"] = [GateResult(**g) for g in data.get("gates", [])]
        data["failed_steps"] = [FailedStep(**s) for s in data.get("failed_steps", [])]
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


def record_path(warehouse: Path) -> Path:
    return warehouse.parent / "logs" / RECORD_NAME


def write_record(record: RunRecord, path: Path) -> None:
    """Replace the record atomically: a reader sees the old one or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(record.to_json() + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_record(path: Path) -> RunRecord | None:
    if not path.exists():
        return None
    try:
        return RunRecord.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path} is not a run record this version can read: {exc}") from exc


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# -- Dagster events -> plain records ------------------------------------------------


def _first_line(text: str | None, limit: int = 300) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def error_line(text: str | None, limit: int = 300) -> str:
    """An error on one line, its class without the module path: `SourceError: jira: HTTP 401 (…)`."""
    line = " ".join((text or "").split())
    head, sep, rest = line.partition(": ")
    if sep and "." in head and " " not in head:
        line = f"{head.rsplit('.', 1)[1]}: {rest}"
    return line if len(line) <= limit else line[: limit - 1] + "…"


def gate_results(events: Iterable[Any]) -> list[GateResult]:
    """Every asset check evaluation among Dagster events (DagsterEvent objects)."""
    results = []
    for event in events:
        if event.event_type_value != "ASSET_CHECK_EVALUATION":
            continue
        data = event.asset_check_evaluation_data
        unique_id = data.metadata.get("unique_id")
        is_dbt = "dagster_dbt/failed_row_count" in data.metadata or (
            unique_id is not None and str(getattr(unique_id, "value", unique_id)).startswith("test.")
        )
        results.append(
            GateResult(
                asset=data.asset_key.to_user_string(),
                check=data.check_name,
                passed=bool(data.passed),
                severity=data.severity.value,
                kind="dbt_test" if is_dbt else "gate",
                description=_first_line(data.description),
            )
        )
    return results


def failed_steps(events: Iterable[Any]) -> list[FailedStep]:
    failures = []
    for event in events:
        if not event.is_step_failure:
            continue
        error = event.step_failure_data.error
        message = error.message if error else event.message
        failures.append(FailedStep(step=event.step_key or "?", error=error_line(message)))
    return failures


def summarise_gates(gates: Iterable[GateResult]) -> dict[str, dict[str, int]]:
    """Counts of passed / failed / warned per kind, e.g. {"gate": {"passed": 12, ...}}."""
    summary: dict[str, dict[str, int]] = {}
    for gate in gates:
        counts = summary.setdefault(gate.kind, {"passed": 0, "failed": 0, "warned": 0})
        counts[gate.outcome] += 1
    return summary
