"""The performance issue's target table, measured in one benchmark run: each figure beside its target.

Every figure is a ratio within one run on one machine (or, for the demo, a wall
time), so a busy machine moves both sides alike. A figure that could not be
measured in this run (no increment, a failed step) shows as "not measured".
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.measure import run_measured

# (key, figure, target, how it is read): the table, in its order.
TARGETS: list[tuple[str, str, float, str]] = [
    ("full_vs_baseline", "full run ÷ baseline", 3.0, "x"),
    ("core_vs_baseline", "gates + dbt + publish ÷ baseline", 2.0, "x"),
    ("jira_vs_latency_bound", "Jira extract ÷ latency bound (page chain; changelogs 4 at once)", 1.3, "x"),
    ("usage_vs_read_json", "usage landing ÷ DuckDB read_json into a table, same files", 2.0, "x"),
    ("no_change_vs_full", "rerun with no new data ÷ full run", 0.03, "%"),
    ("increment_vs_full", "rerun after 0.1 % new data ÷ full run", 0.05, "%"),
    ("memory_vs_baseline", "peak memory of the process tree ÷ baseline's", 1.5, "x"),
    ("demo_wall_seconds", "demo `productops run`, wall", 20.0, "s"),
]

# The demo logs hold a few malformed lines on purpose: DuckDB skips them, the pipeline quarantines them.
READ_JSON = """
import sys, time, duckdb
files = sys.argv[2:]
con = duckdb.connect(sys.argv[1])
started = time.perf_counter()
con.execute(
    "create table events as select * from read_json(?, format = 'newline_delimited', ignore_errors = true)",
    [files],
)
print(time.perf_counter() - started)
"""


def _stage(section: dict[str, Any] | None, name: str) -> float | None:
    if not section:
        return None
    row = next((r for r in section.get("stages", []) if r["stage"] == name), None)
    return None if row is None else row["seconds"]


def read_json_seconds(usage_files: list[Path], database: Path, log: Path) -> float | None:
    """DuckDB's own reader over the same usage files into a new table, in a fresh process."""
    database.unlink(missing_ok=True)
    if not usage_files:
        return None
    argv = [sys.executable, "-c", READ_JSON, str(database), *[str(p.resolve()) for p in usage_files]]
    measured = run_measured(argv, env={}, cwd=database.parent, log=log)
    database.unlink(missing_ok=True)
    return measured.seconds if measured.returncode == 0 else None


def demo_wall_seconds(root: Path, env: dict[str, str]) -> float | None:
    """`productops run --demo` on a fresh warehouse and Dagster home: the issue's "after install"."""
    root.mkdir(parents=True, exist_ok=True)
    home = root / "dagster_home"
    home.mkdir(exist_ok=True)
    repo = Path(__file__).resolve().parent.parent
    (home / "dagster.yaml").write_bytes((repo / "dagster.yaml").read_bytes())
    run_env = {k: v for k, v in env.items() if not k.startswith(("PRODUCTOPS_", "JIRA_", "DAGSTER_"))}
    run_env |= {
        "DAGSTER_HOME": str(home),
        "PRODUCTOPS_WAREHOUSE": str(root / "warehouse" / "productops.duckdb"),
        "PRODUCTOPS_PUBLISHED": str(root / "warehouse" / "published" / "productops.duckdb"),
        "PRODUCTOPS_DEMO_DIR": str(root / "demo"),
        "PRODUCTOPS_NO_ENV_FILE": "1",
        "DO_NOT_TRACK": "1",
    }
    # The demo organisation is generated first and not counted: `make run` reuses it.
    subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "demo", "--out", str(root / "demo")],
        env=run_env,
        cwd=repo,
        capture_output=True,
        check=False,
    )
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run", "--demo"],
        env=run_env,
        cwd=repo,
        capture_output=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    (root / "demo-run.log").write_bytes(proc.stdout + proc.stderr)
    return seconds if proc.returncode == 0 else None


def figures(result: dict[str, Any]) -> dict[str, float | None]:
    """Each figure of the table from a benchmark result (None when not measured)."""
    full, base = result.get("full"), result.get("baseline")
    base_seconds = base["process"]["seconds"] if base else None
    values: dict[str, float | None] = dict.fromkeys(key for key, *_ in TARGETS)
    if full and base_seconds:
        values["full_vs_baseline"] = full["process"]["seconds"] / base_seconds
        core = [_stage(full, s) for s in ("gates", "dbt build", "publish")]
        values["core_vs_baseline"] = sum(s or 0.0 for s in core) / base_seconds
        values["memory_vs_baseline"] = full["process"]["tree_rss_mb"] / max(
            base["process"]["tree_rss_mb"], 1e-9
        )
    if full:
        jira = next((r for r in full["stages"] if r["stage"] == "extract+land jira"), None)
        if jira and jira.get("latency_floor_seconds"):
            values["jira_vs_latency_bound"] = jira["seconds"] / jira["latency_floor_seconds"]
        usage, read_json = _stage(full, "extract+land usage"), result.get("read_json_seconds")
        if usage and read_json:
            values["usage_vs_read_json"] = usage / read_json
        for key, section in (("no_change_vs_full", "no_change"), ("increment_vs_full", "incremental")):
            rerun = result.get(section)
            if rerun and rerun.get("ok"):
                values[key] = rerun["process"]["seconds"] / full["process"]["seconds"]
    values["demo_wall_seconds"] = result.get("demo_wall_seconds")
    return values


def table(result: dict[str, Any]) -> list[str]:
    """The target table as text: figure, measured, target, met or MISSED."""
    values = figures(result)
    lines = [f"{'figure':<66}{'measured':>10}{'target':>10}  verdict", "-" * 96]
    for key, label, target, unit in TARGETS:
        value = values[key]
        if unit == "%":
            shown, goal = (f"{value:.1%}" if value is not None else "—"), f"≤ {target:.0%}"
        elif unit == "s":
            shown, goal = (f"{value:.1f} s" if value is not None else "—"), f"≤ {target:g} s"
        else:
            shown, goal = (f"{value:.2f}×" if value is not None else "—"), f"≤ {target:g}×"
        verdict = "not measured" if value is None else ("met" if value <= target else "MISSED")
        lines.append(f"{label:<66}{shown:>10}{goal:>10}  {verdict}")
    return lines
