"""`productops`: the command line for people who never open Dagster.

productops demo [--scale N] [--out DIR] [--seed N]   generate the demo organisation
productops run                                      run the whole pipeline in one process
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import time
from datetime import date
from pathlib import Path

from ingestion.config import ConfigError, Settings, load_settings

log = logging.getLogger("productops")


class _QuietLibraries(logging.Filter):
    """Lets our own progress through; libraries only when something failed."""

    def __init__(self, verbose: bool):
        super().__init__()
        self.verbose = verbose

    def filter(self, record: logging.LogRecord) -> bool:
        ours = record.name.split(".")[0] in ("ingestion", "orchestration", "productops")
        return self.verbose or ours or record.levelno >= logging.ERROR


def _configure_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%H:%M:%S"))
    # A handler filter, not logger levels: Dagster resets its loggers' levels.
    handler.addFilter(_QuietLibraries(verbose))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)


def cmd_demo(args: argparse.Namespace) -> int:
    from ingestion.demo import generate

    out = Path(args.out).resolve()
    run_date = date.fromisoformat(args.run_date) if args.run_date else None
    started = time.perf_counter()
    summary = generate(out, scale=args.scale, seed=args.seed, run_date=run_date)
    print(f"demo organisation written to {out} in {time.perf_counter() - started:.1f}s")
    for key, value in sorted(summary.get("counts", {}).items()):
        print(f"  {key:<28} {value}")
    return 0


def ensure_demo(settings: Settings) -> None:
    if settings.demo_mode and not (settings.demo_dir / "generator.json").exists():
        from ingestion.demo import generate

        log.info("no demo organisation at %s: generating one", settings.demo_dir)
        generate(settings.demo_dir)


def _print_summary(settings: Settings, rows: dict[str, int], seconds: float) -> None:
    print()
    print(f"Pipeline finished in {seconds:.1f}s.")
    print(f"{'mart':<28}{'rows':>10}")
    for table, count in sorted(rows.items()):
        print(f"  marts.{table:<22}{count:>10}")
    print()
    print(f"Warehouse (pipeline's own file): {settings.warehouse}")
    print(f"Published for readers:           {settings.published}")
    print(f"Parquet exports:                 {settings.published.parent}/<mart>.parquet")
    print()
    print("Query it (DuckDB >= 2.0):")
    print(f'  duckdb -readonly {settings.published} "from marts.team_scorecard_monthly limit 10"')


def _instance():
    """The Dagster instance under $DAGSTER_HOME (run history for `dagster dev`), else ephemeral."""
    import dagster as dg

    home = os.environ.get("DAGSTER_HOME")
    if not home:
        return dg.DagsterInstance.ephemeral()
    Path(home).mkdir(parents=True, exist_ok=True)
    return dg.DagsterInstance.get()


def cmd_run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    settings = load_settings()
    mode = "demo organisation" if settings.demo_mode else "live: " + ", ".join(settings.live_sources)
    log.info("sources: %s", mode)
    ensure_demo(settings)

    from orchestration.dbt_setup import apply_dbt_env, ensure_manifest

    apply_dbt_env(settings)
    ensure_manifest()

    from orchestration.definitions import ALL_JOB_NAME, defs

    job = defs.resolve_job_def(ALL_JOB_NAME)
    instance = _instance()
    # dagster-dbt echoes every dbt event to stdout; keep that in a log file
    # and the terminal for progress and the summary.
    log_file = settings.warehouse.parent / "logs" / "last_run.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("w") as sink, contextlib.redirect_stdout(sink):
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
        )
    seconds = time.perf_counter() - started
    if not result.success:
        from orchestration.gates.report import failure_lines

        # Which gate failed, on which table and how many rows; what did not
        # run because of it; and that readers still see the last good marts.
        planned = [node.name for node in job.nodes]
        for line in failure_lines(result.all_events, settings.published, planned):
            print(line, file=sys.stderr)
        print(f"Run failed after {seconds:.1f}s.", file=sys.stderr)
        print(f"Full log: {log_file}", file=sys.stderr)
        return 1

    import duckdb

    with duckdb.connect(str(settings.published), read_only=True) as con:
        from orchestration.publishing import mart_tables

        rows = {t: con.execute(f"select count(*) from marts.{t}").fetchall()[0][0] for t in mart_tables(con)}
    _print_summary(settings, rows, seconds)
    print(f"Full log: {log_file}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="productops",
        description="Product Ops Warehouse: delivery, adoption, satisfaction and improvement marts.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="generate the demo organisation (real-format inputs)")
    demo.add_argument("--scale", type=float, default=1.0, help="volume multiplier (default 1)")
    demo.add_argument("--out", default=str(load_settings_safe_demo_dir()), help="output folder")
    demo.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    demo.add_argument("--run-date", help="last day of history, YYYY-MM-DD (default today)")
    demo.set_defaults(func=cmd_demo)

    run = sub.add_parser("run", help="run the whole pipeline: extract, land, gate, dbt, publish")
    run.set_defaults(func=cmd_run)
    return parser


def load_settings_safe_demo_dir() -> Path:
    from ingestion.config import DEFAULT_DEMO_DIR

    value = os.environ.get("PRODUCTOPS_DEMO_DIR")
    return Path(value) if value else DEFAULT_DEMO_DIR


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _configure_logging(args.verbose)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
