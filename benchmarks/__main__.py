"""`python -m benchmarks --scale S|M|L|<number> [options]`: see benchmarks/__init__.py."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from benchmarks.run import Options, report, run_and_report
from benchmarks.scales import resolve_scale

DEFAULT_OUT = Path(__file__).resolve().parent / "output"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run the pipeline at a scale beside a plain-DuckDB baseline; print and save the figures.",
    )
    parser.add_argument(
        "--scale",
        default="S",
        help="S (the demo organisation), M, L, or a number (the demo generator's scale factor); default S",
    )
    parser.add_argument("--people", type=int, help="override: people (bulk generator)")
    parser.add_argument("--work-items", type=int, help="override: Jira issues (bulk generator)")
    parser.add_argument("--usage-events", type=int, help="override: usage events (bulk generator)")
    parser.add_argument("--survey-responses", type=int, help="override: survey responses (bulk generator)")
    parser.add_argument(
        "--latency-ms", type=float, default=20.0, help="latency of each API request (default 20)"
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="results and work folders (default benchmarks/output)"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--no-incremental", action="store_true", help="skip the reruns (nothing new, then 0.1 %% new)"
    )
    parser.add_argument(
        "--no-demo", action="store_true", help="skip the demo `productops run --demo` wall-time figure"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample the pipeline with py-spy (slower; stacks in the work logs)",
    )
    parser.add_argument("--show", type=Path, help="print the report of a saved result file and exit")
    parser.add_argument("--regenerate", action="store_true", help="regenerate the data even if it is cached")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.show:
        result = json.loads(args.show.read_text())
        print(report(result))
        return 0 if result.get("ok") else 1
    scale = resolve_scale(
        args.scale,
        people=args.people,
        work_items=args.work_items,
        usage_events=args.usage_events,
        survey_responses=args.survey_responses,
    )
    options = Options(
        scale=scale,
        out=args.out.resolve(),
        latency_ms=args.latency_ms,
        incremental=not args.no_incremental,
        seed=args.seed,
        regenerate=args.regenerate,
        profile=args.profile,
        demo=not args.no_demo,
    )
    result, _ = run_and_report(options)
    return 0 if result.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
