"""`productops`: the command line for people who never open Dagster.

productops demo [--scale N] [--out DIR] [--seed N]   generate the demo organisation
productops run [--source NAME]                      run the whole pipeline (or one source) in one process
productops status [--streams] [--json]              last run, sources' cursors and freshness, gates
productops query "<sql>" [--csv] [--max-rows N]     read-only SQL against the published marts
productops scorecard --team T [--month YYYY-MM]     one team's month at a glance, from the published marts
productops dashboard [--port N]                     the dashboard on the published marts
productops report [--team T] [--period P] --out F   the same charts in one self-contained HTML file
productops config check                             validate productops.toml and the environment
productops --version

A `.env` file in the working directory is read first; variables already set
in the environment win over it.

Exit codes: 0 success; 1 the run, the query or the last run failed; 2 usage or
configuration error; 3 nothing to read yet (no published marts, no run recorded).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import time
import uuid
from datetime import date
from pathlib import Path

from ingestion.config import DEMO_VARIABLE, ENGINE_VARIABLE, ENGINES, ConfigError, Settings, load_settings
from orchestration.env_file import read_env_file
from orchestration.forecast_cli import add_forecast_parser
from orchestration.run_record import now_iso

log = logging.getLogger("productops")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_NOTHING_YET = 3

HISTORY_FSYNC_VARIABLE = "PRODUCTOPS_HISTORY_FSYNC"

EXIT_CODES_HELP = """exit codes:
  0  success
  1  the run, the query or (for status) the last run failed
  2  usage or configuration error
  3  nothing to read yet: no published marts, no run recorded
"""


OUR_LOGGERS = ("ingestion", "orchestration", "productops")


class _QuietLibraries(logging.Filter):
    """Lets our own progress through; libraries only when something failed."""

    def __init__(self, verbose: bool):
        super().__init__()
        self.verbose = verbose

    def filter(self, record: logging.LogRecord) -> bool:
        ours = record.name.split(".")[0] in OUR_LOGGERS
        if self.verbose:
            return True
        return (ours and record.levelno >= logging.INFO) or record.levelno >= logging.ERROR


class _WithoutTraceback(logging.Formatter):
    """One line per record on the terminal: stack traces go to the run log only."""

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info or record.exc_text or record.stack_info:
            record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None})
            record.stack_info = None
        return super().format(record)


class _ProgressHandler(logging.StreamHandler):
    """The CLI's own stderr handler; one at a time, even when `main` runs twice in a process."""


def _configure_logging(verbose: bool) -> _ProgressHandler:
    handler = _ProgressHandler(sys.stderr)
    handler.setFormatter(_WithoutTraceback("%(asctime)s %(levelname)-7s %(message)s", "%H:%M:%S"))
    # A handler filter, not logger levels: Dagster resets its loggers' levels.
    handler.addFilter(_QuietLibraries(verbose))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _ProgressHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # Our own debug lines reach the handlers too (the run log keeps them).
    for name in OUR_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    return handler


class _OursOrImportant(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        ours = record.name.split(".")[0] in OUR_LOGGERS
        return ours or record.levelno >= logging.WARNING


class _DbtTally(logging.Filter):
    """Keeps the dbt step's count of its tests (the `dbt_tests` of its last log line), and why
    it built nothing (`nothing_new`) when the published marts were already this build's."""

    def __init__(self):
        super().__init__()
        self.tests: dict[str, int] = {}
        self.nothing_new = ""

    def filter(self, record: logging.LogRecord) -> bool:
        self.tests = getattr(record, "dbt_tests", None) or self.tests
        self.nothing_new = getattr(record, "nothing_new", None) or self.nothing_new
        return True


@contextlib.contextmanager
def _logging_to(sink, *filters: logging.Filter):
    """Every record (ours at debug, libraries' warnings, with tracebacks) into the run log too."""
    handler = logging.StreamHandler(sink)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s %(message)s", "%H:%M:%S"))
    handler.addFilter(_OursOrImportant())
    for extra in filters:
        handler.addFilter(extra)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)


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
    from ingestion.demo.seeds import seeds_are_current

    current = (settings.demo_dir / "generator.json").exists() and seeds_are_current(
        settings.demo_dir / "seeds"
    )
    if settings.demo_mode and not current:
        from ingestion.demo import generate

        log.info(
            "no demo organisation (or one from an older version) at %s: generating one", settings.demo_dir
        )
        generate(settings.demo_dir)


def _print_summary(settings: Settings, rows: dict[str, int], seconds: float, nothing_new: str = "") -> None:
    print()
    print(f"Pipeline finished in {seconds:.1f}s.")
    if nothing_new:
        print(f"Nothing new: {nothing_new}.")
        print("dbt build and publish skipped; readers keep the published marts (`--rebuild` builds anyway).")
    print(f"{'mart':<28}{'rows':>10}")
    for table, count in sorted(rows.items()):
        print(f"  marts.{table:<22}{count:>10}")
    _print_unmatched_usage(settings)
    print()
    if settings.engine.name == "postgres":
        from orchestration.engine import engine_for

        print(f"Warehouse (landing and gates):   {settings.warehouse}")
        print(f"Published for readers:           {engine_for(settings).describe_published(settings)}")
        print()
        print('Query it: productops query "select * from team_scorecard_monthly limit 10"')
        print("  (or psql, any BI tool: schema published, read-only for readers)")
        return
    print(f"Warehouse (pipeline's own file): {settings.warehouse}")
    print(f"Published for readers:           {settings.published}")
    print(f"Parquet exports:                 {settings.published.parent}/<mart>.parquet")
    print()
    print("Query it (any DuckDB from 1.0 on, e.g. `pip install duckdb-cli`):")
    print(f'  duckdb -readonly {settings.published} "from marts.team_scorecard_monthly limit 10"')


def _print_unmatched_usage(settings: Settings) -> None:
    """Tool uses the roster cannot attribute (marts.usage_unmatched_daily), if any."""
    from orchestration.published import NotPublished, PublishedSource, connect
    from orchestration.status import read_unmatched_usage, render_unmatched_usage

    try:
        source = PublishedSource.of(settings)
        with connect(source) as con:
            lines = render_unmatched_usage(read_unmatched_usage(con, source.schema))
    except NotPublished:
        return
    if lines:
        print()
        print("\n".join(lines))


def _print_files(record_file: Path, run_id: str) -> None:
    """The four fates of the lines of each file this run landed."""
    from orchestration.run_record import read_record
    from orchestration.status import render_file_fates

    record = read_record(record_file)
    landed = [f for f in (record.files if record else []) if f.get("run_id") == run_id]
    if landed:
        print()
        print("Files landed by this run (every line: landed, duplicate dropped, skipped or rejected):")
        print("\n".join(render_file_fates(landed, limit=None)))


def _instance():
    """The Dagster instance under $DAGSTER_HOME (run history for `dagster dev`), else ephemeral."""
    import dagster as dg

    home = os.environ.get("DAGSTER_HOME")
    if not home:
        return dg.DagsterInstance.ephemeral()
    Path(home).mkdir(parents=True, exist_ok=True)
    _sqlite_history_without_fsync(Path(home))
    return dg.DagsterInstance.get()


def _sqlite_history_without_fsync(home: Path) -> None:
    """Run history in SQLite under $DAGSTER_HOME, written without an fsync per event.

    Dagster's SQLite storage opens a connection, commits and closes it for each of a run's
    ~400 events (a plan of 76 assets and 239 checks before the first step), and each commit
    and close (a WAL checkpoint) synced the disk: 13-18 s of a demo run on a shared disk.
    With `synchronous = off` a killed process still loses nothing (SQLite's own guarantee;
    the kill tests run against it); only an operating-system crash or power cut could leave
    the history file damaged. PRODUCTOPS_HISTORY_FSYNC=1 keeps the fsyncs; production
    history belongs in PostgreSQL anyway (dagster.production.yaml).
    """
    if os.environ.get(HISTORY_FSYNC_VARIABLE, "").strip() == "1":
        return
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    _HISTORY_HOMES.update({str(home), str(home.resolve())})
    if not event.contains(Engine, "connect", _fewer_syncs):
        event.listen(Engine, "connect", _fewer_syncs)


_HISTORY_HOMES: set[str] = set()


def _fewer_syncs(dbapi_connection, _record) -> None:
    import sqlite3

    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    files = [row[2] for row in dbapi_connection.execute("pragma database_list").fetchall()]
    if any(name and name.startswith(tuple(_HISTORY_HOMES)) for name in files):
        dbapi_connection.execute("pragma synchronous = off")


@contextlib.contextmanager
def _lines_seen_by(heartbeat):
    """The heartbeat hears of every line the terminal shows, so it speaks only into silence."""
    seen = heartbeat.filter()
    consoles = [h for h in logging.getLogger().handlers if isinstance(h, _ProgressHandler)]
    for console in consoles:
        console.addFilter(seen)
    try:
        yield
    finally:
        for console in consoles:
            console.removeFilter(seen)


def _progress_listener(heartbeat, run_log):
    """Logs gates, dbt counts and publish as the run's Dagster events arrive."""
    from orchestration.defs.dbt import productops_dbt
    from orchestration.progress import RunProgress

    return RunProgress(dbt_models=len(productops_dbt.keys), heartbeat=heartbeat, run_log=run_log)


def _selected_keys(defs, source: str | None):
    """Asset keys of `run --source NAME`: that source, its gates and everything downstream."""
    if source is None:
        return None
    from orchestration.defs.jobs import source_selection
    from orchestration.defs.sources import RAW_STREAMS

    graph = defs.resolve_asset_graph()
    selection = source_selection(source, [name for name in RAW_STREAMS if name != source])
    return [key for key in selection.resolve(graph) if graph.get(key).is_materializable]


def _check_source(source: str | None, settings: Settings) -> None:
    if source is None:
        return
    from orchestration.defs.sources import RAW_STREAMS, SOURCE_ENABLED

    if source not in RAW_STREAMS:
        raise ConfigError(f"unknown source {source!r}; sources: {', '.join(RAW_STREAMS)}")
    if not SOURCE_ENABLED[source](settings):
        raise ConfigError(
            f"source {source!r} is not configured for this run (see `.env.example` and the README's "
            "'Pointing it at your real tools')"
        )


def _write_run_record(
    settings: Settings, run_id: str, result, started_at: str, seconds: float, dbt_tally: _DbtTally
) -> Path:
    """`last_run.json` for `productops status`: outcome, sources, every gate and dbt test."""
    import duckdb

    from orchestration.run_record import RunRecord, failed_steps, gate_results, record_path, write_record
    from orchestration.status import read_file_fates, read_source_states

    events = result.all_events
    record = RunRecord(
        run_id=run_id,
        status="success" if result.success else "failure",
        started_at=started_at,
        finished_at=now_iso(),
        duration_seconds=round(seconds, 1),
        trigger="cli",
        mode="demo" if settings.demo_mode else "live",
        warehouse=str(settings.warehouse),
        gates=gate_results(events),
        failed_steps=failed_steps(events),
        dbt_tests=dbt_tally.tests,
        nothing_new=dbt_tally.nothing_new if result.success else "",
    )
    try:
        if settings.warehouse.exists():
            with duckdb.connect(str(settings.warehouse), read_only=True) as con:
                record.sources = read_source_states(con)
                record.files = read_file_fates(con)
    except duckdb.IOException as exc:  # another run (the schedule, a sensor) took the warehouse
        log.warning("sources not recorded: the warehouse is busy (%s)", str(exc).splitlines()[0])
    if result.success:
        from orchestration.published import NotPublished, PublishedSource, row_counts

        source = PublishedSource.of(settings)
        try:
            record.published_rows = row_counts(source)
            record.published = source.where
        except NotPublished:
            pass
    path = record_path(settings.warehouse)
    write_record(record, path)
    return path


def _prune_history(instance) -> None:
    """Run history retention (orchestration/run_retention.py); never fails the run."""
    from orchestration.run_retention import prune_runs

    try:
        prune_runs(instance)
    except Exception as exc:
        log.warning("[history] old runs not pruned: %s", exc)


def cmd_run(args: argparse.Namespace) -> int:
    from orchestration.heartbeat import Heartbeat

    started = time.perf_counter()
    started_at = now_iso()
    if args.demo:
        os.environ[DEMO_VARIABLE] = "1"  # the Dagster resources read the settings from the environment
    if args.engine:
        os.environ[ENGINE_VARIABLE] = args.engine  # over PRODUCTOPS_ENGINE, for every step of the run
    settings = load_settings()
    run_id = str(uuid.uuid4())
    only = f"{args.source} only (then dbt and publish)" if args.source else ""
    if settings.demo_mode:
        log.info(
            "[start] run %s on the DEMO organisation (%s): bundled recordings and files, none of yours%s",
            run_id[:8],
            settings.demo_reason,
            f"; sources: {only}" if only else "",
        )
    else:
        configured = "; ".join([*settings.live_sources, *settings.file_sources])
        sources = f"{only}; configured: {configured}" if only else configured
        log.info("[start] run %s; sources: %s", run_id[:8], sources)
    if settings.engine.name != "duckdb":
        log.info("[start] engine %s: dbt builds and publishes there", settings.engine.where)
    # dagster-dbt echoes every dbt event to stdout; keep that, every Dagster event
    # and any stack trace in a log file, and the terminal for progress and the summary.
    log_file = settings.warehouse.parent / "logs" / "last_run.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    dbt_tally = _DbtTally()
    with (
        log_file.open("w") as sink,
        _logging_to(sink, dbt_tally),
        Heartbeat() as heartbeat,
        _lines_seen_by(heartbeat),
    ):
        heartbeat.stage("start", lambda: "loading the pipeline: Dagster, the dbt project, the gates")
        _check_source(args.source, settings)
        ensure_demo(settings)

        from orchestration.dbt_setup import AS_OF_VARIABLE, apply_dbt_env, as_of_date, ensure_manifest

        apply_dbt_env(settings)
        # One as-of date for the whole run, recorded on the run: time-relative columns use it.
        os.environ[AS_OF_VARIABLE] = as_of = as_of_date(settings)
        log.info("[start] marts as of %s (%s)", as_of, AS_OF_VARIABLE)
        ensure_manifest()

        from orchestration import build_inputs, run_guard
        from orchestration.definitions import ALL_JOB_NAME, defs

        job = defs.resolve_job_def(ALL_JOB_NAME)
        selected = _selected_keys(defs, args.source)
        instance = _instance()
        for note in run_guard.reap_stale_runs(instance):
            log.warning("[recovered] %s", note)
        stopper = run_guard.StopOnSignal(instance, run_id)
        instance.add_event_listener(run_id, _progress_listener(heartbeat, sink))
        instance.add_event_listener(
            run_id, run_guard.PoolWaitBound(instance, run_id, stopper, run_guard.wait_seconds())
        )
        log.info("[extract] landing %s in schema raw", args.source or "every configured source")
        with stopper, contextlib.redirect_stdout(sink):
            try:
                result = job.execute_in_process(
                    instance=instance,
                    run_id=run_id,
                    raise_on_error=False,
                    asset_selection=selected,
                    tags={
                        "productops/trigger": "cli",
                        "productops/as_of": as_of,
                        **_source_tag(args.source),
                        **({build_inputs.REBUILD_TAG: "1"} if args.rebuild else {}),
                        **run_guard.process_tags(),
                    },
                    # Dagster's console logger prints nothing: the listener writes its events to the log.
                    run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
                )
            except (KeyboardInterrupt, run_guard.ExecutionInterrupted):
                # A signal that Dagster raised outside a step's own handling: end the run the same way.
                stopper.stop("received SIGINT or SIGTERM", run_guard.EXIT_INTERRUPTED)
                raise
        heartbeat.stage("finish", lambda: "recording the run")
        seconds = time.perf_counter() - started
        record_file = _write_run_record(settings, run_id, result, started_at, seconds, dbt_tally)
        _prune_history(instance)
    if not result.success and run_guard.interrupted(result.all_events):
        # Dagster raised the signal inside a step and ended the run itself.
        log.error("[stopped] interrupted by a signal after %.1fs; nothing was published", seconds)
        return run_guard.EXIT_INTERRUPTED
    if not result.success:
        from orchestration.gates.report import failure_lines

        # Which gate failed, on which table and how many rows; what did not
        # run because of it; and that readers still see the last good marts.
        planned = [node.name for node in job.nodes]
        if selected is not None:
            planned = [step for step in planned if _step_selected(step, args.source)]
        from orchestration.published import PublishedSource

        for line in failure_lines(result.all_events, PublishedSource.of(settings), planned):
            print(line, file=sys.stderr)
        print(f"Run failed after {seconds:.1f}s.", file=sys.stderr)
        print(f"Full log: {log_file}", file=sys.stderr)
        return 1

    from orchestration.published import PublishedSource, row_counts

    rows = row_counts(PublishedSource.of(settings))
    _print_summary(settings, rows, seconds, dbt_tally.nothing_new)
    _print_files(record_file, run_id)
    print(f"Full log: {log_file}")
    print(f"Run record: {record_file} (`productops status` reads it)")
    return 0


def _source_tag(source: str | None) -> dict[str, str]:
    return {"productops/source": source} if source else {}


def _step_selected(step: str, source: str) -> bool:
    from orchestration.defs.sources import RAW_STREAMS

    return not any(step in (f"{other}_raw", f"{other}_raw_gates") for other in RAW_STREAMS if other != source)


def cmd_scorecard(args: argparse.Namespace) -> int:
    from orchestration.published import PublishedSource
    from orchestration.query import NotPublished, published_connection
    from orchestration.scorecard import load_scorecard, render_scorecard

    settings = load_settings()
    try:
        with published_connection(PublishedSource.of(settings), settings.warehouse) as con:
            card = load_scorecard(con, args.team, args.month)
    except NotPublished as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_NOTHING_YET
    except ValueError as exc:  # an unknown team or month (ScorecardError), or the paths
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    print(render_scorecard(card))
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from orchestration.status import collect_status, render, to_json

    settings = load_settings()
    try:
        status = collect_status(settings)
    except ValueError as exc:  # an unreadable run record
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(to_json(status) if args.json else render(status, show_streams=args.streams))
    return status.exit_code


def cmd_query(args: argparse.Namespace) -> int:
    from orchestration.published import PublishedSource
    from orchestration.query import (
        NotPublished,
        QueryError,
        columns,
        execute,
        fetch,
        published_connection,
        write_csv,
        write_table,
    )

    sql = sys.stdin.read() if args.sql == "-" else args.sql
    settings = load_settings()
    try:
        with published_connection(PublishedSource.of(settings), settings.warehouse) as con:
            cursor = execute(con, sql)
            names = columns(cursor)
            if args.csv:
                write_csv(sys.stdout, names, fetch(cursor))
            else:
                rows = list(fetch(cursor, limit=args.max_rows))
                more = len(rows) > args.max_rows
                write_table(sys.stdout, names, rows[: args.max_rows], more)
    except NotPublished as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_NOTHING_YET
    except QueryError as exc:
        print(f"SQL error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except ValueError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    return EXIT_OK


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="productops",
        description="Product Ops Warehouse: delivery, adoption, satisfaction and improvement marts.",
        epilog=EXIT_CODES_HELP,
        formatter_class=formatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--version", action="version", version=version_line())
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="generate the demo organisation (real-format inputs)",
        description="Write a demo organisation (seeds, landing files, recorded API answers) to a folder.",
    )
    demo.add_argument("--scale", type=float, default=1.0, help="volume multiplier (default 1)")
    demo.add_argument("--out", default=str(load_settings_safe_demo_dir()), help="output folder")
    demo.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    demo.add_argument("--run-date", help="last day of history, YYYY-MM-DD (default today)")
    demo.set_defaults(func=cmd_demo)

    run = sub.add_parser(
        "run",
        help="run the whole pipeline: extract, land, gate, dbt, publish",
        description=(
            "Run the whole pipeline in this process: extract every configured source (or the demo\n"
            "organisation), land it in schema raw, run the gates, build the marts with dbt, and\n"
            "publish them if every gate passed. Progress goes to stderr, the summary to stdout;\n"
            "dbt's own output goes to <warehouse dir>/logs/last_run.log, and the outcome with\n"
            "every gate result to <warehouse dir>/logs/last_run.json."
        ),
        epilog=EXIT_CODES_HELP,
        formatter_class=formatter,
    )
    run.add_argument(
        "--source",
        metavar="NAME",
        help=(
            "extract only this source (jira, github, linear, okta, usage, surveys), then gate it, "
            "build the marts and publish; the other sources keep their last validated load"
        ),
    )
    run.add_argument(
        "--engine",
        choices=ENGINES,
        help=(
            "where dbt builds and publishes the marts (default: PRODUCTOPS_ENGINE, else duckdb); "
            "postgres needs PRODUCTOPS_POSTGRES_URL"
        ),
    )
    run.add_argument(
        "--rebuild",
        action="store_true",
        help=(
            "build and publish the marts even when no raw row, seed, model, setting or as-of date "
            "changed since the published build (such a run otherwise skips dbt and publish)"
        ),
    )
    run.add_argument(
        "--demo",
        action="store_true",
        help="run the bundled demo organisation (recordings and files; no credentials, nothing of yours)",
    )
    run.set_defaults(func=cmd_run)

    status = sub.add_parser(
        "status",
        help="the last run, each source's cursor and freshness, the last gate results",
        description=(
            "Show the last run (from the Dagster instance under $DAGSTER_HOME or from\n"
            "last_run.json, whichever is newer), each source's last load, cursor and freshness\n"
            "(raw.load_log and raw.load_state), and the gate and dbt test results of that run."
        ),
        epilog=EXIT_CODES_HELP.replace("the run, the query or (for status) the last run", "the last run"),
        formatter_class=formatter,
    )
    status.add_argument("--streams", action="store_true", help="also list every source stream and its cursor")
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    status.set_defaults(func=cmd_status)

    query = sub.add_parser(
        "query",
        help="read-only SQL against the published marts (table or CSV)",
        description=(
            "Run read-only SQL against the published marts (PRODUCTOPS_PUBLISHED), never the\n"
            "pipeline's own file. Mart names work with or without the `marts.` prefix.\n\n"
            "examples:\n"
            "  productops query \"from delivery_weekly where team_id = 'payments' order by week_start\"\n"
            '  productops query --csv "from team_scorecard_monthly" > scorecard.csv\n'
            "  echo 'select count(*) from fct_work_items' | productops query -"
        ),
        epilog=EXIT_CODES_HELP.replace("the run, the query or (for status) the last run", "the SQL"),
        formatter_class=formatter,
    )
    query.add_argument("sql", help='the SQL, or "-" to read it from standard input')
    query.add_argument("--csv", action="store_true", help="write every row as CSV to standard output")
    query.add_argument(
        "--max-rows",
        type=_positive_int,
        default=100,
        metavar="N",
        help="rows to show in the table (default 100; --csv writes all)",
    )
    query.set_defaults(func=cmd_query)

    scorecard = sub.add_parser(
        "scorecard",
        help="one team's month at a glance: each area's headline KPI and its change",
        description=(
            "Print one team's scorecard for a month from the published marts (read-only):\n"
            "the headline KPI of each area (delivery, adoption, satisfaction, improvement),\n"
            "durations in days, and the change since the previous month with an arrow.\n"
            "Without --month: the latest complete month.\n\n"
            "example:\n"
            "  productops scorecard --team payments --month 2026-10"
        ),
        epilog=(
            "exit codes:\n  0  success\n  2  unknown team or month, or a configuration error\n"
            "  3  nothing to read yet: no published marts\n"
        ),
        formatter_class=formatter,
    )
    scorecard.add_argument("--team", required=True, help="team id or name (an unknown one lists them all)")
    scorecard.add_argument("--month", metavar="YYYY-MM", help="the month (default: the latest complete one)")
    scorecard.set_defaults(func=cmd_scorecard)
    from dashboard.cli import add_commands

    add_commands(sub)
    add_forecast_parser(sub)
    config = sub.add_parser("config", help="check the configuration without running")
    config_sub = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    check = config_sub.add_parser(
        "check",
        help="validate productops.toml (unknown keys, types, values) and the environment",
        epilog=EXIT_CODES_HELP,
        formatter_class=formatter,
    )
    check.set_defaults(func=cmd_config_check)
    return parser


def version_line() -> str:
    """`productops 0.1.0 (dagster 1.13.27, dbt-core 1.11.16, …)`, without importing any of them."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    stack = ", ".join(
        f"{name} {installed(name)}"
        for name in ("dagster", "dagster-dbt", "dbt-core", "duckdb", "great-expectations")
    )
    return f"productops {installed('productops-warehouse')} ({stack}; Python {sys.version.split()[0]})"


def cmd_config_check(args: argparse.Namespace) -> int:
    """Everything `run` would refuse, said before running (a ConfigError exits 2 in main)."""
    settings = load_settings()
    where = settings.config_file or "no configuration file (defaults)"
    mode = "demo organisation" if settings.demo_mode else "live: " + ", ".join(settings.live_sources)
    print(f"{where}: valid")
    print(f"  sources   {mode}")
    print(f"  surveys   {len(settings.surveys)} mapped")
    print(f"  landing   {settings.landing_dir}")
    print(f"  warehouse {settings.warehouse}")
    print(f"  engine    {settings.engine.where}")
    return EXIT_OK


def load_settings_safe_demo_dir() -> Path:
    from ingestion.config import DEFAULT_DEMO_DIR

    value = os.environ.get("PRODUCTOPS_DEMO_DIR")
    return Path(value) if value else DEFAULT_DEMO_DIR


def main(argv: list[str] | None = None) -> int:
    read_env_file()
    args = build_parser().parse_args(argv)
    _configure_logging(args.verbose)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
