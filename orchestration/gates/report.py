"""A failed run explained in a few lines: which gates failed, on which table, how
many rows or records, what did not run because of them, and what readers still see."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestration.published import NotPublished, PublishedSource, published_at

# A blocking check's step fails with this error; the gate lines already say why.
_CHECK_FAILED_ERROR = "DagsterAssetCheckFailedError"


def _metadata_value(metadata: dict[str, Any], name: str) -> Any:
    value = metadata.get(name)
    return getattr(value, "value", value)


def _gate_line(check: Any) -> str:
    severity = getattr(getattr(check, "severity", None), "value", "ERROR")
    label = "GATE FAILED" if severity == "ERROR" else "WARNING"
    where = f"{check.asset_key.to_user_string()} · {check.check_name}"
    description = (check.description or "").strip()
    if not description:
        failing = _metadata_value(check.metadata, "dagster_dbt/failed_row_count")
        kind = "dbt test, severity error" if severity == "ERROR" else "dbt test, severity warn"
        description = f"{failing} failing rows ({kind})" if failing is not None else f"({kind})"
    return f"{label} {where}: {description}"


def failed_checks(events: Iterable[Any]) -> list[Any]:
    """The asset-check evaluations of a run that did not pass, in the order they ran."""
    return [
        event.asset_check_evaluation_data
        for event in events
        if event.event_type_value == "ASSET_CHECK_EVALUATION" and not event.asset_check_evaluation_data.passed
    ]


def failure_lines(
    events: Iterable[Any], published: Path | PublishedSource, planned_steps: Iterable[str] = ()
) -> list[str]:
    """What went wrong in a run, for a terminal: one line per failed gate or step,
    then the planned steps that never started because of them."""
    events = list(events)
    lines = [_gate_line(check) for check in failed_checks(events)]
    for event in events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            if error is not None and error.cls_name == _CHECK_FAILED_ERROR:
                continue
            message = error.message.strip().splitlines()[0] if error and error.message.strip() else ""
            lines.append(f"FAILED step {event.step_key}: {message}")
    started = {event.step_key for event in events if event.event_type_value == "STEP_START"}
    skipped = sorted(set(planned_steps) - started)
    if skipped:
        lines.append("NOT RUN because of the failures above: " + ", ".join(skipped))
    lines.append(published_state(published))
    return lines


def published_state(published: Path | PublishedSource) -> str:
    source = published if isinstance(published, PublishedSource) else PublishedSource(Path(published))
    try:
        if source.postgres_url is not None:
            when = published_at(source)
        elif source.path.exists():
            when = datetime.fromtimestamp(source.path.stat().st_mtime, UTC)
        else:
            raise NotPublished(source.where)
    except NotPublished:
        return f"Nothing published yet: readers have no {source.where} until a run passes every gate."
    return f"Published marts left unchanged: {source.where} (last published {when:%Y-%m-%d %H:%M} UTC)."
