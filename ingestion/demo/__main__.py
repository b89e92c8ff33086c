"""`python -m ingestion.demo [--out DIR] [--scale N] [--seed N] [--run-date YYYY-MM-DD]`."""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

from ingestion.demo import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="demo")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--run-date", type=date.fromisoformat, default=None)
    args = parser.parse_args()
    started = time.perf_counter()
    summary = generate(Path(args.out), scale=args.scale, seed=args.seed, run_date=args.run_date)
    print(f"wrote {args.out} in {time.perf_counter() - started:.1f}s")
    for key, value in sorted(summary["counts"].items()):
        print(f"  {key:<28} {value}")


if __name__ == "__main__":
    main()
