"""Run `baseline.sql` on a dataset's inputs, in a child process of its own.

`python -m benchmarks.baseline INPUTS.json DB` sets the script's input
variables from INPUTS.json, runs it into the DuckDB file DB and prints its
time as JSON. The parent (`baseline_inputs`, `run_baseline`) lists the input
files from the recordings' own index (`exchanges.jsonl`) and measures the
child's wall time and memory like the pipeline's.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import duckdb

from benchmarks.datasets import Dataset
from benchmarks.gen_jira import is_sweep
from benchmarks.measure import Measured, run_measured

SCRIPT = Path(__file__).with_name("baseline.sql")
SEARCH_PATH = "/rest/api/3/search/jql"
EMPTY_CHANGELOG_PAGE = '{"self": "", "values": []}\n'


def _recorded_files(api_dir: Path) -> dict[str, list[str]]:
    jira = api_dir / "jira"
    files: dict[str, list[str]] = {"search": [], "changelog": [], "status": []}
    for line in (jira / "exchanges.jsonl").read_text().splitlines():
        if not line.strip():
            continue
        exchange = json.loads(line)
        path = str(jira / exchange["body_file"])
        if exchange["path"] == SEARCH_PATH and not is_sweep(exchange):
            files["search"].append(path)
        elif exchange["path"].endswith("/changelog"):
            files["changelog"].append(path)
        elif exchange["path"] == "/rest/api/3/status":
            files["status"].append(path)
    return files


def baseline_inputs(dataset: Dataset, work_dir: Path, *, with_delta: bool, usage_files: list[Path]) -> Path:
    """Write the baseline's input list for the full load (and the increment) to a JSON file."""
    recordings = [dataset.api] + ([dataset.delta_api] if with_delta else [])
    search: list[str] = []
    changelog: list[str] = []
    for api_dir in recordings:
        files = _recorded_files(api_dir)
        search += files["search"]
        changelog += files["changelog"]
    if not changelog:  # read_json needs a file: an empty page stands for "none"
        empty = work_dir / "empty-changelog.json"
        empty.parent.mkdir(parents=True, exist_ok=True)
        empty.write_text(EMPTY_CHANGELOG_PAGE)
        changelog = [str(empty)]
    inputs = {
        "jira_search_files": search,
        "jira_changelog_files": changelog,
        "jira_status_file": _recorded_files(dataset.api)["status"][0],
        "usage_files": [str(p) for p in usage_files],
        "seed_teams": str(dataset.seeds / "teams.csv"),
        "seed_roster": str(dataset.seeds / "roster.csv"),
        "seed_ownership": str(dataset.seeds / "ownership.csv"),
        "seed_tools": str(dataset.seeds / "tools.csv"),
        "seed_status_mapping": str(dataset.seeds / "status_mapping.csv"),
    }
    path = work_dir / ("baseline-inputs-delta.json" if with_delta else "baseline-inputs.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(inputs, indent=1))
    return path


def run_baseline(inputs: Path, database: Path, log: Path, env: dict[str, str]) -> Measured:
    database.unlink(missing_ok=True)
    argv = [sys.executable, "-m", "benchmarks.baseline", str(inputs), str(database)]
    return run_measured(argv, env=env, cwd=Path(__file__).resolve().parent.parent, log=log)


def execute(inputs: dict[str, Any], database: Path) -> float:
    started = time.perf_counter()
    with duckdb.connect(str(database)) as con:
        con.execute("set enable_progress_bar = false")
        for name, value in inputs.items():
            con.execute(f"set variable {name} = ?", [value])
        con.execute(SCRIPT.read_text())
    return time.perf_counter() - started


def main(argv: list[str]) -> int:
    inputs_file, database = Path(argv[0]), Path(argv[1])
    seconds = execute(json.loads(inputs_file.read_text()), database)
    print(json.dumps({"seconds": round(seconds, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
