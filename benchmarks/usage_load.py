"""Usage-log load rate and peak memory, next to DuckDB's own `read_json`.

    python benchmarks/usage_load.py                  # 10 million events
    python benchmarks/usage_load.py --events 1000000 --memory-limit 2GB
    python benchmarks/usage_load.py --usage-dir benchmarks/output/data/M-seed42/landing/usage

Writes one JSONL file of N events under a temporary folder (a unique
`event_id` each, timestamps with offsets, one line in 100 000 without an
offset so the quarantine path runs too), then, each in a fresh process so
peak memory is its own:

* `loader`: `land_usage_logs` into a new warehouse (classification, dedupe
  by event id, quarantine, the primary-key insert, `raw.loaded_files`), under
  the loader's DuckDB memory limit;
* `read_json`: `create table … as select * from read_json(…)` into a new
  DuckDB file with DuckDB's defaults: the rate of DuckDB's own reader.

With `--usage-dir`, the files already in that folder (a benchmark dataset's
`landing/usage`, say) are measured instead, left where they are: the same
files before and after a change to the loader, without the full benchmark.

Prints events per second, wall time and peak RSS of each, then deletes the
files (unless --keep).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

GENERATE = """
copy (
    select
        strftime(timestamp '2026-01-01' + to_seconds(i * 3 % 31536000), '%Y-%m-%dT%H:%M:%S')
            || case when i % 100000 = 99999 then '' when i % 2 = 0 then 'Z' else '+02:00' end
            as timestamp,
        'user' || (i * 7919 % 5000) || '@example.com' as user_email,
        ['Jira', 'Figma', 'Slack', 'Notion', 'Miro', 'Cursor', 'Linear', 'GitHub'][i % 8 + 1] as tool,
        ['issue_viewed', 'file_opened', 'message_sent', 'page_edited', 'board_opened'][i % 5 + 1]
            as event,
        'ev-' || i as event_id
    from range({n}) r(i)
) to '{path}' (format json)
"""


def _child(kind: str, usage: Path, work: Path, memory_limit: str) -> dict:
    """Runs in a fresh interpreter; prints one JSON line of measurements."""
    import duckdb

    from ingestion.sources.usage_logs import find_usage_files

    started = time.perf_counter()
    if kind == "loader":
        from ingestion.config import UsageMapping
        from ingestion.loader import RawLoader
        from ingestion.sources.usage_logs import land_usage_logs

        with duckdb.connect(str(work / "loader.duckdb")) as con:
            stats = land_usage_logs(
                con, RawLoader(con, "bench"), usage, UsageMapping(), memory_limit=memory_limit
            )
        seconds = time.perf_counter() - started  # the digest below is not timed
        landed, rejected = stats.rows_landed, stats.rows_rejected
        duplicates, skipped = stats.rows_duplicate, stats.rows_skipped
        # What landed, as one number: the same files must land the same rows and quarantine.
        with duckdb.connect(str(work / "loader.duckdb"), read_only=True) as con:
            ((digest,),) = con.execute(
                """
                select xor(
                    (select bit_xor(hash(event_key, occurred_at, user_email, tool, event,
                                         identity_kind, _source_file, _line_number))
                     from raw.usage_events),
                    (select coalesce(bit_xor(hash(locator, reason, payload)), 0)
                     from raw.rejected_records))
                """
            ).fetchall()
    else:
        with duckdb.connect(str(work / "read_json.duckdb")) as con:
            con.execute(
                # malformed lines skipped (the loader quarantines them), as in benchmarks/targets.py
                "create table events as select * from read_json(?, format = 'newline_delimited',"
                " ignore_errors = true)",
                [[str(p) for p in find_usage_files(usage)]],
            )
            landed, rejected = con.execute("select count(*) from events").fetchall()[0][0], 0
            duplicates = skipped = digest = 0
        seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    return {
        "kind": kind,
        "seconds": seconds,
        "landed": landed,
        "rejected": rejected,
        "duplicates": duplicates,
        "skipped": skipped,
        "digest": f"{digest:x}",
        "peak_mb": peak_mb,
    }


def _measure(kind: str, usage: Path, work: Path, memory_limit: str) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--usage-dir", str(usage), "--work", str(work),
         "--memory-limit", memory_limit],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--memory-limit", default="1GB", help="the loader's DuckDB memory limit")
    parser.add_argument("--usage-dir", type=Path, help="measure the usage files in this folder instead")
    parser.add_argument("--keep", action="store_true", help="keep the generated file and databases")
    parser.add_argument("--child", choices=("loader", "read_json"), help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        sys.path.insert(0, str(REPO_ROOT))
        print(json.dumps(_child(args.child, args.usage_dir, args.work, args.memory_limit)))
        return 0

    import duckdb

    sys.path.insert(0, str(REPO_ROOT))
    from ingestion.sources.usage_logs import find_usage_files

    work = Path(tempfile.mkdtemp(prefix="usage-bench-"))
    try:
        if args.usage_dir:
            usage = args.usage_dir.resolve()
            files = find_usage_files(usage)
            size_mb = sum(p.stat().st_size for p in files) / 1e6
            print(f"{len(files)} files in {usage}, {size_mb:,.0f} MB on disk")
        else:
            usage = work / "landing" / "usage"
            usage.mkdir(parents=True)
            path = usage / "events.jsonl"
            started = time.perf_counter()
            with duckdb.connect() as con:
                con.execute(GENERATE.format(n=args.events, path=path))
            size_mb = path.stat().st_size / 1e6
            written = time.perf_counter() - started
            print(f"{args.events:,} events, {size_mb:,.0f} MB of JSONL, written in {written:.1f}s")
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
        print(f"{'':<12}{'events/s':>12}{'seconds':>10}{'peak RSS MB':>14}{'landed':>13}{'rejected':>10}")
        for kind in ("read_json", "loader"):
            r = _measure(kind, usage, work, args.memory_limit)
            label = f"loader ({args.memory_limit})" if kind == "loader" else kind
            print(
                f"{label:<12}{r['landed'] / r['seconds']:>12,.0f}{r['seconds']:>10.1f}"
                f"{r['peak_mb']:>14,.0f}{r['landed']:>13,}{r['rejected']:>10,}"
            )
            if kind == "loader":
                counts = f"{r['duplicates']:,} duplicates, {r['skipped']:,} skipped"
                print(f"{'':<12}{counts}, digest of what landed {r['digest']}")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
