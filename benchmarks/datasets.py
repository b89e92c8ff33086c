"""Generate (or reuse) the inputs of one scale, timed apart from the pipeline.

Layout, the same for the demo generator and the bulk one:

    <data>/productops.toml, seeds/, landing/usage/, landing/surveys/
    <data>/api/jira/                      the full recording
    <data>/delta/api/jira/, delta/usage/  the incremental scenario's increment
    <data>/dataset.json                   what was generated, with which parameters, in how long
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.scales import Scale

DELTA_SHARE = 0.001
FORMAT = 4  # bump when the generated layout changes, so caches are not reused


@dataclass(frozen=True)
class Dataset:
    root: Path
    scale: Scale
    seed: int
    run_date: date  # the history ends at run_date 00:00 UTC
    counts: dict[str, int]
    seconds: dict[str, float]  # generation time per part

    @property
    def config(self) -> Path:
        return self.root / "productops.toml"

    @property
    def seeds(self) -> Path:
        return self.root / "seeds"

    @property
    def usage_dir(self) -> Path:
        return self.root / "landing" / "usage"

    @property
    def surveys_dir(self) -> Path:
        return self.root / "landing" / "surveys"

    @property
    def api(self) -> Path:
        return self.root / "api"

    @property
    def delta_api(self) -> Path:
        return self.root / "delta" / "api"

    @property
    def delta_usage(self) -> Path:
        return self.root / "delta" / "usage"


def _params(scale: Scale, seed: int, run_date: date) -> dict[str, Any]:
    return {"format": FORMAT, "scale": asdict(scale), "seed": seed, "run_date": run_date.isoformat()}


def prepare(scale: Scale, data_root: Path, *, seed: int = 42, reuse: bool = True) -> Dataset:
    """The dataset of a scale under `data_root`, generated unless an identical one is there.

    The history ends yesterday, so the increment can fall on the day after
    it and still be in the past.
    """
    run_date = datetime.now(UTC).date() - timedelta(days=1)
    root = data_root / f"{scale.name}-seed{seed}"
    manifest = root / "dataset.json"
    params = _params(scale, seed, run_date)
    if reuse and manifest.exists():
        saved = json.loads(manifest.read_text())
        if saved.get("params") == params:
            return Dataset(root, scale, seed, run_date, saved["counts"], saved["seconds"])
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    counts, seconds = (_demo if not scale.bulk else _bulk)(scale, root, seed, run_date)

    from benchmarks.gen_delta import make_delta

    started = time.perf_counter()
    history_end = datetime.combine(run_date, datetime.min.time(), UTC)
    counts |= make_delta(
        root,
        share=DELTA_SHARE,
        issues_total=counts["jira_issues"],
        usage_total=counts["usage_events"],
        history_end=history_end,
        seed=seed,
    )
    seconds["delta"] = round(time.perf_counter() - started, 2)
    manifest.write_text(json.dumps({"params": params, "counts": counts, "seconds": seconds}, indent=2) + "\n")
    return Dataset(root, scale, seed, run_date, counts, seconds)


def _demo(scale: Scale, root: Path, seed: int, run_date: date) -> tuple[dict, dict]:
    from ingestion.demo import generate

    started = time.perf_counter()
    summary = generate(root, scale=scale.demo_scale or 1.0, seed=seed, run_date=run_date)
    counts = dict(summary["counts"])
    return counts, {"demo_generator": round(time.perf_counter() - started, 2)}


def _bulk(scale: Scale, root: Path, seed: int, run_date: date) -> tuple[dict, dict]:
    from benchmarks.gen_jira import write_jira
    from benchmarks.gen_org import build_org, write_config, write_seeds
    from benchmarks.gen_surveys import write_surveys
    from benchmarks.gen_usage import write_usage
    from ingestion.demo.timekeeping import Window

    seconds: dict[str, float] = {}
    counts: dict[str, int] = {}
    window = Window.ending_on(run_date)

    started = time.perf_counter()
    org = build_org(scale.people, window, seed)
    rows = write_seeds(org, root / "seeds")
    write_config(root / "productops.toml")
    counts |= {"people": len(org.people), "teams": len(org.team_ids), "roster_rows": rows["roster.csv"]}
    seconds["org"] = round(time.perf_counter() - started, 2)

    started = time.perf_counter()
    counts |= write_jira(org, scale.work_items, root / "api" / "jira", seed)
    seconds["jira"] = round(time.perf_counter() - started, 2)

    started = time.perf_counter()
    counts |= write_usage(
        org, scale.usage_events, root / "landing" / "usage", root / "usage-work.duckdb", seed
    )
    seconds["usage"] = round(time.perf_counter() - started, 2)

    if scale.survey_responses:
        started = time.perf_counter()
        counts |= write_surveys(org, scale.survey_responses, root / "landing" / "surveys", seed)
        seconds["surveys"] = round(time.perf_counter() - started, 2)
    return counts, seconds
