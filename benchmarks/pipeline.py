"""One pipeline run, as a user runs it: `productops run` in a child process.

The run reads Jira from the local recording server through the live
settings (JIRA_BASE_URL, JIRA_EMAIL, JIRA_API_TOKEN) and the files of the
dataset through PRODUCTOPS_* variables, and writes a warehouse of its own.
Stage times come from the Dagster run's step events (a DAGSTER_HOME made for
the benchmark), rows and pages from `raw.load_log`, and dbt's slowest nodes
from its `run_results.json`.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from benchmarks.datasets import Dataset
from benchmarks.measure import Measured, run_measured
from ingestion.config import PIPELINE_VARIABLES
from orchestration.dbt_artefacts import runs_dir
from orchestration.env_file import NO_ENV_FILE

REPO = Path(__file__).resolve().parent.parent
# The child run sees only the sources and files the benchmark sets.
CLEARED = PIPELINE_VARIABLES
BENCH_SALT = "benchmark-salt"


@dataclass(frozen=True)
class Workspace:
    """Where one benchmark run writes: its landing folder, warehouse and Dagster home."""

    root: Path

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse" / "productops.duckdb"

    @property
    def published(self) -> Path:
        return self.root / "warehouse" / "published" / "productops.duckdb"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster_home"

    @property
    def logs(self) -> Path:
        return self.root / "logs"


def prepare_workspace(root: Path, dataset: Dataset) -> Workspace:
    """A fresh workspace whose landing folder links to the dataset's files.

    Links, not copies (the L logs are gigabytes); the increment adds its own
    file next to them without touching the dataset.
    """
    shutil.rmtree(root, ignore_errors=True)
    ws = Workspace(root)
    for name, source in (("usage", dataset.usage_dir), ("surveys", dataset.surveys_dir)):
        if source.is_dir():
            target = ws.landing / name
            target.mkdir(parents=True)
            for path in sorted(source.iterdir()):
                (target / path.name).symlink_to(path)
    ws.dagster_home.mkdir(parents=True)
    shutil.copyfile(REPO / "dagster.yaml", ws.dagster_home / "dagster.yaml")
    return ws


def pipeline_env(ws: Workspace, dataset: Dataset, jira_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env |= {
        "JIRA_BASE_URL": jira_url,
        "JIRA_EMAIL": "benchmark@example.com",
        "JIRA_API_TOKEN": "benchmark-token",
        "PRODUCTOPS_CONFIG": str(dataset.config),
        "PRODUCTOPS_LANDING_DIR": str(ws.landing),
        "PRODUCTOPS_SEEDS_DIR": str(dataset.seeds),
        "PRODUCTOPS_SALT": BENCH_SALT,
        # A developer's own `.env` must not add sources to the child run.
        NO_ENV_FILE: "1",
        "PRODUCTOPS_WAREHOUSE": str(ws.warehouse),
        "PRODUCTOPS_PUBLISHED": str(ws.published),
        "DAGSTER_HOME": str(ws.dagster_home),
        "DO_NOT_TRACK": "1",
    }
    return env


@dataclass
class RunResult:
    label: str
    measured: Measured
    run_id: str | None
    steps: list[dict[str, Any]] = field(default_factory=list)
    run_seconds: float | None = None
    loads: list[dict[str, Any]] = field(default_factory=list)
    dbt: dict[str, Any] = field(default_factory=dict)
    http: dict[str, Any] = field(default_factory=dict)
    profile: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.measured.returncode == 0


def py_spy() -> str | None:
    """py-spy, if installed next to this interpreter or on PATH (it is not a project dependency)."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def run_pipeline(ws: Workspace, env: dict[str, str], label: str, *, profile: bool = False) -> RunResult:
    argv = [sys.executable, "-m", "orchestration.cli", "run"]
    profile_file = ws.logs / f"{label}.pyspy.txt"
    if profile:
        spy = py_spy()
        if spy is None:
            raise RuntimeError("--profile needs py-spy: pip install py-spy (into the venv, not the project)")
        # Collapsed stacks of every process (the dbt child too), idle time included.
        argv = [
            spy,
            "record",
            "--format",
            "raw",
            "--idle",
            "--subprocesses",
            "--rate",
            "25",
            "--output",
            str(profile_file),
            "--",
            *argv,
        ]
    measured = run_measured(argv, env=env, cwd=REPO, log=ws.logs / f"{label}.log")
    run_id, steps, run_seconds = _dagster_steps(ws.dagster_home)
    result = RunResult(label, measured, run_id, steps, run_seconds)
    if run_id and ws.warehouse.exists():
        result.loads = _load_log(ws.warehouse, run_id)
    result.dbt = _dbt_results(ws.warehouse, run_id)
    if profile and profile_file.exists():
        result.profile = {"file": str(profile_file), "top_self": top_frames(profile_file)}
    return result


def top_frames(collapsed: Path, limit: int = 20) -> list[dict[str, Any]]:
    """The frames where most samples were taken (self time), from py-spy's collapsed stacks."""
    own: dict[str, int] = {}
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        total += int(count)
        frame = stack.rsplit(";", 1)[-1]
        own[frame] = own.get(frame, 0) + int(count)
    ranked = sorted(own.items(), key=lambda kv: -kv[1])[:limit]
    return [{"frame": frame, "share": round(n / max(total, 1), 4)} for frame, n in ranked]


# -- where the figures come from -------------------------------------------------------


def classify(step_key: str) -> str:
    """The benchmark's stage of a Dagster step (steps of other names count as gates)."""
    key = step_key.lower()
    if key.endswith("_raw"):
        return f"extract+land {key[: -len('_raw')]}"
    if "dbt" in key:
        return "dbt build"
    if "publish" in key:
        return "publish"
    return "gates"


def _dagster_steps(home: Path) -> tuple[str | None, list[dict[str, Any]], float | None]:
    import dagster as dg

    STEP_SUCCESS, STEP_FAILURE = dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        runs = instance.get_runs(limit=1)
        if not runs:
            return None, [], None
        run_id = runs[0].run_id
        starts: dict[str, float] = {}
        steps: list[dict[str, Any]] = []
        run_start = run_end = None
        for record in instance.all_logs(run_id):
            event = record.dagster_event
            if event is None:
                continue
            kind = event.event_type
            if kind == dg.DagsterEventType.RUN_START:
                run_start = record.timestamp
            elif kind in (dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.RUN_FAILURE):
                run_end = record.timestamp
            elif kind == dg.DagsterEventType.STEP_START and record.step_key:
                starts[record.step_key] = record.timestamp
            elif kind in (STEP_SUCCESS, STEP_FAILURE) and record.step_key in starts:
                began = starts[record.step_key]
                steps.append(
                    {
                        "step": record.step_key,
                        "stage": classify(record.step_key),
                        "status": "success" if kind == STEP_SUCCESS else "failure",
                        "start": began,
                        "seconds": round(record.timestamp - began, 3),
                    }
                )
        run_seconds = round(run_end - run_start, 3) if run_start and run_end else None
        return run_id, steps, run_seconds
    finally:
        instance.dispose()


def _load_log(warehouse: Path, run_id: str) -> list[dict[str, Any]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            """
            select source, stream, sum(pages), sum(rows_landed), sum(rows_rejected)
            from raw.load_log where run_id = ? group by source, stream order by source, stream
            """,
            [run_id],
        ).fetchall()
    return [
        {"source": s, "stream": st, "pages": int(p), "rows": int(r), "rejected": int(rj)}
        for s, st, p, r, rj in rows
    ]


def _dbt_results(warehouse: Path, run_id: str | None) -> dict[str, Any]:
    """Per resource type and the slowest nodes of the dbt build this run made."""
    if not run_id:
        return {}
    # Each run's dbt artefacts are kept under <warehouse dir>/dbt/runs/<stamp>-<run id>.
    ours = sorted(runs_dir(warehouse).glob(f"*-{run_id[:8]}/run_results.json"))
    if not ours:
        return {}
    results = json.loads(ours[-1].read_text())["results"]
    by_type: dict[str, dict[str, float]] = {}
    for r in results:
        kind = r["unique_id"].split(".")[0]
        entry = by_type.setdefault(kind, {"count": 0, "seconds": 0.0})
        entry["count"] += 1
        entry["seconds"] = round(entry["seconds"] + float(r.get("execution_time") or 0.0), 3)
    slowest = sorted(results, key=lambda r: -float(r.get("execution_time") or 0.0))[:8]
    return {
        "by_type": by_type,
        "slowest": [
            {"node": r["unique_id"].split(".", 2)[-1], "seconds": round(float(r["execution_time"]), 3)}
            for r in slowest
        ],
    }
