"""One benchmark: data, full run, baseline, check, increment, JSON.

1. Generate (or reuse) the scale's dataset; its generation time is reported
   apart and never counted in the pipeline's figures.
2. Serve its Jira recording on 127.0.0.1 with the chosen latency and run
   the pipeline on a fresh warehouse (Jira + usage logs + surveys; no
   GitHub or Okta, so the marts hold only what the baseline computes).
3. Run the baseline on the same files and compare both marts row by row.
4. The increment: the server switches to the second recording (0.1 % new
   and updated issues), a new usage log lands in the folder, and the
   pipeline runs again on the same warehouse; the baseline and the check
   run again on all the inputs.
5. A rerun with nothing new (the same recording and files again): a real run.
6. DuckDB's `read_json` over the full run's usage files, and a demo
   `productops run --demo` on a fresh warehouse: the denominators and the
   wall time of the issue's target table (benchmarks/targets.py).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from benchmarks.baseline import baseline_inputs, run_baseline
from benchmarks.compare import compare
from benchmarks.datasets import Dataset, prepare
from benchmarks.machine import load_average, machine_info
from benchmarks.measure import Measured
from benchmarks.pipeline import RunResult, Workspace, pipeline_env, prepare_workspace, run_pipeline
from benchmarks.scales import Scale
from benchmarks.server import RecordingServer
from benchmarks.stages import FAN_OUT_CONCURRENCY, format_table, stage_rows
from benchmarks.targets import demo_wall_seconds, read_json_seconds
from benchmarks.targets import table as target_table


@dataclass(frozen=True)
class Options:
    scale: Scale
    out: Path
    latency_ms: float = 20.0
    incremental: bool = True
    seed: int = 42
    regenerate: bool = False
    profile: bool = False
    demo: bool = True


def _say(message: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {message}", flush=True)


def _mart_rows(published: Path) -> int | None:
    if not published.exists():
        return None
    with duckdb.connect(str(published), read_only=True) as con:
        tables = con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
        return sum(con.execute(f"select count(*) from marts.{t}").fetchall()[0][0] for (t,) in tables)


def _measured(m: Measured) -> dict[str, Any]:
    return {
        "returncode": m.returncode,
        "seconds": round(m.seconds, 3),
        "max_rss_mb": round(m.max_rss_mb, 1),
        "tree_rss_mb": round(m.tree_rss_mb, 1),
    }


def _run_section(run: RunResult, ws: Workspace, latency_ms: float) -> dict[str, Any]:
    return {
        "ok": run.ok,
        "run_id": run.run_id,
        "process": _measured(run.measured),
        "dagster_run_seconds": run.run_seconds,
        "stages": stage_rows(run, _mart_rows(ws.published) if run.ok else None, latency_ms),
        "steps": run.steps,
        "loads": run.loads,
        "http": run.http,
        "dbt": run.dbt,
        "profile": run.profile,
        "log": str(ws.logs / f"{run.label}.log"),
    }


def _baseline_section(ws: Workspace, dataset: Dataset, env: dict, *, with_delta: bool) -> dict[str, Any]:
    label = "baseline-delta" if with_delta else "baseline"
    usage = sorted((ws.landing / "usage").iterdir())
    inputs = baseline_inputs(dataset, ws.root / "baseline", with_delta=with_delta, usage_files=usage)
    database = ws.root / "baseline" / f"{label}.duckdb"
    measured = run_baseline(inputs, database, ws.logs / f"{label}.log", env)
    section: dict[str, Any] = {"process": _measured(measured), "database": str(database)}
    if measured.returncode == 0:
        section["check"] = compare(ws.published, database)
        section["equal"] = all(m["equal"] for m in section["check"].values())
    else:
        section["equal"] = False
        section["error"] = (ws.logs / f"{label}.log").read_text()[-2000:]
    return section


def run_benchmark(options: Options) -> dict[str, Any]:
    scale = options.scale
    started_at = datetime.now(UTC)
    load_before = load_average()
    _say(f"scale {scale.name}: preparing data")
    dataset = prepare(scale, options.out / "data", seed=options.seed, reuse=not options.regenerate)
    _say(f"data ready in {dataset.root} ({sum(dataset.seconds.values()):.1f}s of generation)")
    ws = prepare_workspace(options.out / "work" / scale.name, dataset)
    result: dict[str, Any] = {
        "scale": asdict(scale),
        "started_at": started_at.isoformat(timespec="seconds"),
        "machine": machine_info(),
        "load_average_before": load_before,
        "latency_ms": options.latency_ms,
        "concurrency": {"chained": 1, "fan_out": FAN_OUT_CONCURRENCY},
        "dataset": {
            "path": str(dataset.root),
            "counts": dataset.counts,
            "generation_seconds": dataset.seconds,
        },
    }
    with RecordingServer(dataset.api, latency_ms=options.latency_ms) as server:
        env = pipeline_env(ws, dataset, server.url("jira"))
        _say("full run: productops run")
        full = run_pipeline(ws, env, "full", profile=options.profile)
        full.http = server.reset_stats()
        result["full"] = _run_section(full, ws, options.latency_ms)
        _say(f"full run {'ok' if full.ok else 'FAILED'} in {full.measured.seconds:.1f}s")
        if full.ok:
            _say("baseline")
            result["baseline"] = _baseline_section(ws, dataset, env, with_delta=False)
            base = result["baseline"]["process"]
            result["ratio"] = {
                "time": round(full.measured.seconds / max(base["seconds"], 1e-9), 2),
                "tree_rss": round(full.measured.tree_rss_mb / max(base["tree_rss_mb"], 1e-9), 2),
                "max_rss": round(full.measured.max_rss_mb / max(base["max_rss_mb"], 1e-9), 2),
            }
        if full.ok:
            usage = sorted((ws.landing / "usage").iterdir())
            result["read_json_seconds"] = read_json_seconds(
                usage, ws.root / "read_json.duckdb", ws.logs / "read_json.log"
            )
        if full.ok and options.incremental:
            _say("increment: second recording and a new usage log; productops run again")
            server.load(dataset.delta_api)
            for path in sorted(dataset.delta_usage.iterdir()):
                (ws.landing / "usage" / path.name).symlink_to(path)
            rerun = run_pipeline(ws, env, "incremental", profile=options.profile)
            rerun.http = server.reset_stats()
            result["incremental"] = _run_section(rerun, ws, options.latency_ms)
            result["incremental"]["share_of_full"] = round(rerun.measured.seconds / full.measured.seconds, 3)
            if rerun.ok:
                _say("baseline on the full load plus the increment")
                result["incremental"]["baseline"] = _baseline_section(ws, dataset, env, with_delta=True)
                # The increment's recording again: its search answers any query with the same
                # records, which land unchanged; no new file. (The first recording answers only
                # the full listing's query.)
                _say("rerun with nothing new: productops run again on the same recording and files")
                unchanged = run_pipeline(ws, env, "no-change", profile=options.profile)
                unchanged.http = server.reset_stats()
                result["no_change"] = _run_section(unchanged, ws, options.latency_ms)
                share = unchanged.measured.seconds / full.measured.seconds
                result["no_change"]["share_of_full"] = round(share, 4)
    if options.demo:
        _say("demo: productops run --demo on a fresh warehouse")
        result["demo_wall_seconds"] = demo_wall_seconds(ws.root / "demo-run", env)
    result["load_average_after"] = load_average()
    result["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["ok"] = _ok(result, options.incremental)
    return result


def _ok(result: dict[str, Any], incremental: bool) -> bool:
    ok = result.get("full", {}).get("ok", False) and result.get("baseline", {}).get("equal", False)
    if incremental:
        inc = result.get("incremental", {})
        ok = ok and inc.get("ok", False) and inc.get("baseline", {}).get("equal", False)
    return bool(ok)


def write_result(result: dict[str, Any], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = out / f"{stamp}-{result['scale']['name']}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return path


def _check_line(section: dict[str, Any]) -> str:
    if "check" not in section:
        return "baseline FAILED: " + section.get("error", "")[-500:]
    parts = []
    for mart, check in section["check"].items():
        if check["equal"]:
            parts.append(f"{mart}: {check['rows_pipeline']} rows, all equal")
        else:
            diffs = ", ".join(f"{c} ({d['rows']} rows)" for c, d in check["differing_columns"].items())
            parts.append(
                f"{mart}: DIFFERENT — pipeline {check['rows_pipeline']} rows, "
                f"baseline {check['rows_baseline']}, "
                f"only in pipeline {check['only_pipeline']}, only in baseline {check['only_baseline']}"
                + (f", columns {diffs}" if diffs else "")
            )
    return "; ".join(parts)


def jira_line(result: dict[str, Any]) -> str | None:
    """Where the Jira extraction's time went: latency, HTTP, or the client's own work."""
    full = result.get("full")
    jira = next((r for r in full["stages"] if r["stage"] == "extract+land jira"), None) if full else None
    if not jira or not jira.get("requests"):
        return None
    floor, seconds = jira["latency_floor_seconds"], jira["seconds"]  # stages.latency_bound
    bound = "latency" if floor >= 0.5 * seconds else "client work (parsing and landing)"
    return (
        f"Jira extraction: {jira['requests']} requests in {seconds:.1f}s "
        f"({jira['requests_per_s']}/s); latency floor {floor:.1f}s, "
        f"HTTP {jira['http_seconds']:.1f}s, client {jira['client_seconds']:.1f}s: bound by {bound}"
    )


def report(result: dict[str, Any]) -> str:
    scale = result["scale"]
    counts = result["dataset"]["counts"]
    lines = [
        "",
        f"Benchmark at scale {scale['name']} — {result['machine']['cpus']} CPUs, "
        f"{result['machine']['memory_gib']} GiB; load average before {result['load_average_before']}, "
        f"after {result.get('load_average_after')}",
        "data: "
        + ", ".join(
            f"{k} {counts[k]:,}"
            for k in (
                "people",
                "jira_issues",
                "jira_histories",
                "jira_status_changes",
                "usage_events",
                "survey_responses",
            )
            if k in counts
        )
        + f" (generated in {sum(result['dataset']['generation_seconds'].values()):.1f}s, not counted below)",
        f"Jira served from 127.0.0.1 with {result['latency_ms']:g} ms per request; "
        f"search pages one at a time, changelogs {FAN_OUT_CONCURRENCY} at a time",
    ]
    full = result.get("full")
    if full:
        proc = full["process"]
        lines += [
            "",
            "Full run (productops run):",
            format_table(full["stages"]),
            f"peak memory: {proc['tree_rss_mb']:.0f} MB whole process tree (largest single process "
            f"{proc['max_rss_mb']:.0f} MB)",
        ]
    base = result.get("baseline")
    if base:
        proc = base["process"]
        ratio = result["ratio"]
        lines += [
            "",
            f"Baseline (baseline.sql in DuckDB): {proc['seconds']:.2f}s, "
            f"peak memory {proc['tree_rss_mb']:.0f} MB",
            f"pipeline / baseline: time {ratio['time']}x, memory {ratio['tree_rss']}x",
            "check: " + _check_line(base),
        ]
    reruns = (
        ("incremental", "Incremental rerun (0.1 % new and updated issues, one more usage log):"),
        ("no_change", "Rerun with nothing new (the increment's recording and files again):"),
    )
    for key, title in reruns:
        if result.get(key):
            share = result[key]["share_of_full"]
            lines += ["", title, format_table(result[key]["stages"]), f"rerun / full run: {share:.1%}"]
    inc = result.get("incremental")
    if inc and "baseline" in inc:
        lines.append("check after the increment: " + _check_line(inc["baseline"]))
    lines += ["", "Targets of the performance issue (measured, not asserted):", *target_table(result)]
    jira = jira_line(result)
    if jira:
        lines.append(jira)
    lines.append("")
    lines.append("RESULT: " + ("ok" if result.get("ok") else "NOT OK (see above)"))
    return "\n".join(lines)


def run_and_report(options: Options) -> tuple[dict[str, Any], Path]:
    started = time.perf_counter()
    result = run_benchmark(options)
    result["benchmark_seconds"] = round(time.perf_counter() - started, 1)
    path = write_result(result, options.out)
    print(report(result))
    print(f"results: {path}")
    return result, path
