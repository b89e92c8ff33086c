"""The per-stage table of one pipeline run: extract+land per source, gates, dbt, publish.

Wall time per stage is the sum of its Dagster steps; "start-up" is the rest
of the process's wall time (imports, settings, the dbt manifest check, the
Dagster instance). Rows and pages come from `raw.load_log`; for an API
source the recording server adds its requests and the time it spent on
them, latency included, which is the floor of that source's extraction.
"""

from __future__ import annotations

from typing import Any

from benchmarks.pipeline import RunResult
from ingestion.sources.jira import JiraConnector

# How many fan-out requests (benchmarks/server.py FAN_OUT) the connector sends at once.
FAN_OUT_CONCURRENCY = JiraConnector.changelog_workers


def latency_bound(http: dict[str, Any], latency_ms: float) -> float:
    """The least wall time the requests could take at this latency, in seconds.

    Chained requests (search pages: each token comes from the last) go one at
    a time; fan-out requests (full changelogs) go FAN_OUT_CONCURRENCY at a
    time alongside the chain. No schedule beats the longer of the two, nor
    all requests spread over every lane at once.
    """
    fan_out = http.get("fan_out_requests", 0)
    chained = http["requests"] - fan_out
    lanes = 1 + FAN_OUT_CONCURRENCY if fan_out else 1
    requests = max(chained, fan_out / FAN_OUT_CONCURRENCY, http["requests"] / lanes)
    return requests * latency_ms / 1000


def stage_rows(run: RunResult, mart_rows: int | None, latency_ms: float) -> list[dict[str, Any]]:
    by_stage: dict[str, dict[str, Any]] = {}
    for step in run.steps:
        entry = by_stage.setdefault(step["stage"], {"stage": step["stage"], "seconds": 0.0, "steps": 0})
        entry["seconds"] = round(entry["seconds"] + step["seconds"], 3)
        entry["steps"] += 1
    loads: dict[str, dict[str, int]] = {}
    for load in run.loads:
        total = loads.setdefault(load["source"], {"rows": 0, "pages": 0, "rejected": 0})
        for key in ("rows", "pages", "rejected"):
            total[key] += load[key]
    rows: list[dict[str, Any]] = []
    order = sorted(by_stage, key=lambda s: (not s.startswith("extract"), s != "gates", s != "dbt build", s))
    for name in order:
        entry = dict(by_stage[name])
        if name.startswith("extract+land "):
            source = name.removeprefix("extract+land ")
            entry |= loads.get(source, {"rows": 0, "pages": 0, "rejected": 0})
            http = run.http.get(source)
            if http:
                seconds = entry["seconds"] or 1e-9
                entry["requests"] = http["requests"]
                entry["requests_per_s"] = round(http["requests"] / seconds, 1)
                entry["http_seconds"] = http["busy_seconds"]
                entry["latency_floor_seconds"] = round(latency_bound(http, latency_ms), 3)
                entry["client_seconds"] = round(max(0.0, entry["seconds"] - http["busy_seconds"]), 3)
        elif name in ("dbt build", "publish") and mart_rows is not None:
            entry["rows"] = mart_rows
        rows.append(entry)
    in_steps = sum(r["seconds"] for r in rows)
    rows.append({"stage": "start-up and bookkeeping", "seconds": round(run.measured.seconds - in_steps, 3)})
    rows.append({"stage": "total (process wall time)", "seconds": round(run.measured.seconds, 3)})
    return rows


COLUMNS = (
    ("rows", 12, "{}"),
    ("pages", 8, "{}"),
    ("requests_per_s", 8, "{}"),
    ("http_seconds", 9, "{:.2f}"),
    ("client_seconds", 9, "{:.2f}"),
)


def format_table(rows: list[dict[str, Any]]) -> str:
    header = f"{'stage':<28}{'wall s':>9}{'rows':>12}{'pages':>8}{'req/s':>8}{'http s':>9}{'client s':>9}"
    lines = [header, "-" * len(header)]
    for r in rows:
        cells = [f"{r['stage']:<28}", f"{r['seconds']:>9.2f}"]
        for key, width, fmt in COLUMNS:
            value = r.get(key)
            cells.append(f"{'' if value is None else fmt.format(value):>{width}}")
        lines.append("".join(cells))
    return "\n".join(lines)
