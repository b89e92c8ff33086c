"""`productops status`: the last run, each source's cursor and freshness, the last gate results.

Where each part comes from:

- the last run: the Dagster instance under `$DAGSTER_HOME` (runs started from
  the UI, the schedule, a sensor or the CLI) or `last_run.json`, whichever is newer;
- sources: `raw.load_log` and `raw.load_state` in the warehouse, opened read-only
  for a few milliseconds and never while a run is in progress (then the copy
  in `last_run.json` is shown);
- gates: the asset check evaluations of that run.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from ingestion.config import Settings
from orchestration.run_history import glance
from orchestration.run_record import GateResult, RunRecord, read_record, record_path, summarise_gates

EXIT_OK = 0
EXIT_LAST_RUN_FAILED = 1
EXIT_NO_RUN = 3


@dataclass
class RunInfo:
    run_id: str
    status: str  # success | failure | in progress | queued | canceled ...
    trigger: str
    started_at: str | None
    finished_at: str | None
    duration_seconds: float | None
    origin: str  # dagster | last_run.json
    nothing_new: str = ""  # why dbt and publish were skipped, if they were


@dataclass
class Status:
    run: RunInfo | None = None
    gates: list[GateResult] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    # Tool uses by identities the roster does not know (marts.usage_unmatched_daily)
    unmatched_usage: dict[str, Any] = field(default_factory=dict)
    sources_origin: str = "warehouse"
    published: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    dbt_tests: dict[str, int] = field(default_factory=dict)  # dbt's own count, when recorded

    @property
    def exit_code(self) -> int:
        if self.run is None:
            return EXIT_NO_RUN
        failed = self.run.status == "failure" or any(g.outcome == "failed" for g in self.gates)
        return EXIT_LAST_RUN_FAILED if failed else EXIT_OK


# -- the warehouse's own bookkeeping ------------------------------------------------

SOURCE_STATES_SQL = """
with last_loads as (
    select source, stream, pages, rows_landed, rows_rejected, finished_at, run_id
    from raw.load_log
    qualify row_number() over (partition by source, stream order by finished_at desc) = 1
)
select
    coalesce(l.source, s.source) as source,
    coalesce(l.stream, s.stream) as stream,
    l.finished_at as last_load_at,
    l.pages,
    l.rows_landed,
    l.rows_rejected,
    l.run_id,
    s.cursor_value as cursor
from last_loads as l
full outer join raw.load_state as s on l.source = s.source and l.stream = s.stream
order by 1, 2
"""


def read_source_states(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """One dict per source stream: its last load (raw.load_log) and its cursor (raw.load_state)."""
    present = {
        row[0]
        for row in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'"
        ).fetchall()
    }
    if not {"load_log", "load_state"} <= present:
        return []
    cursor = con.execute(SOURCE_STATES_SQL)
    names = [d[0] for d in cursor.description]
    rows = []
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        if isinstance(row["last_load_at"], datetime):
            row["last_load_at"] = row["last_load_at"].astimezone(UTC).isoformat(timespec="seconds")
        rows.append(row)
    return rows


FILE_FATES_SQL = """
select
    source, path, rows_landed as landed, coalesce(rows_duplicate, 0) as duplicates,
    coalesce(rows_skipped, 0) as skipped, coalesce(rows_rejected, 0) as rejected,
    problem, loaded_at, run_id
from raw.loaded_files
where not starts_with(path, 'surveys:') or rows_landed + coalesce(rows_rejected, 0) > 0
order by loaded_at desc, path
"""
FILES_SHOWN = 15


def read_file_fates(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Each file of the file sources as it last landed: the four fates of its lines
    (landed, duplicates dropped, skipped, quarantined), or why it could not be read."""
    columns = {
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns"
            " where table_schema = 'raw' and table_name = 'loaded_files'"
        ).fetchall()
    }
    if "rows_duplicate" not in columns:  # a warehouse no run of this version has written
        return []
    cursor = con.execute(FILE_FATES_SQL)
    names = [d[0] for d in cursor.description]
    rows = []
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        row["loaded_at"] = row["loaded_at"].astimezone(UTC).isoformat(timespec="seconds")
        rows.append(row)
    return rows


UNMATCHED_DAYS = 30
# Portable SQL (DuckDB and PostgreSQL): `{schema}` is where the marts are.
UNMATCHED_USAGE_SQL = """
with
usage_days as (
    select usage_date from {schema}.usage_unmatched_daily
    union all
    select usage_date from {schema}.fct_tool_usage_daily
),
period as (
    -- the last day with any use, attributed or not
    select max(usage_date) as last_day from usage_days
),
unmatched as (
    select u.tool_id, sum(u.unmatched_events) as events, max(u.unmatched_identities) as most_in_a_day
    from {schema}.usage_unmatched_daily as u, period
    where u.usage_date > period.last_day - {days}
    group by u.tool_id
),
matched as (
    select sum(f.events) as events
    from {schema}.fct_tool_usage_daily as f, period
    where f.usage_date > period.last_day - {days} and f.usage_date <= period.last_day
)
select period.last_day, matched.events as matched_events, unmatched.tool_id, unmatched.events,
    unmatched.most_in_a_day
from unmatched cross join period cross join matched
order by unmatched.events desc, unmatched.tool_id
"""


def read_unmatched_usage(con: duckdb.DuckDBPyConnection, schema: str = "marts") -> dict[str, Any]:
    """Tool uses over the last 30 days of data whose identity matches nobody on the
    roster, per tool, from the mart dbt builds (in `schema`); {} when there are none (or no
    mart yet). `con` is a DuckDB connection or an `orchestration.published` one."""
    tables = con.execute(
        "select table_name from information_schema.tables where table_schema = ?"
        " and table_name in ('usage_unmatched_daily', 'fct_tool_usage_daily')",
        [schema],
    ).fetchall()
    if len(tables) < 2:
        return {}
    found = con.execute(UNMATCHED_USAGE_SQL.format(schema=schema, days=UNMATCHED_DAYS)).fetchall()
    if not found:  # none in the period
        return {}
    last_day, matched = found[0][0], found[0][1]
    tools = [
        {"tool_id": tool_id, "events": int(events), "most_in_a_day": int(most)}
        for _, _, tool_id, events, most in found
    ]
    unmatched = sum(tool["events"] for tool in tools)
    return {
        "days": UNMATCHED_DAYS,
        "last_day": last_day.isoformat(),
        "events": unmatched,
        "share": unmatched / (unmatched + int(matched or 0)),
        "tools": tools,
    }


def render_unmatched_usage(unmatched: dict[str, Any]) -> list[str]:
    if not unmatched:
        return []
    lines = [
        f"Tool uses by identities not on the roster ({unmatched['days']} days to {unmatched['last_day']},"
        " from marts.usage_unmatched_daily)",
        f"  {_uses(unmatched['events'])} ({_share(unmatched['share'])} of all), counted for nobody:"
        " add the people or their ids (roster other_ids)",
    ]
    for tool in unmatched["tools"]:
        most = tool["most_in_a_day"]
        who = "1 identity" if most == 1 else f"{most:,} identities"
        lines.append(f"  {tool['tool_id']:<20}{_uses(tool['events']):>12} by up to {who} a day")
    return lines


def _share(share: float) -> str:
    return "< 0.1%" if 0 < share < 0.001 else f"{share:.1%}"


def _uses(count: int) -> str:
    return f"{count:,} use" + ("" if count == 1 else "s")


def render_file_fates(files: list[dict[str, Any]], limit: int | None = FILES_SHOWN) -> list[str]:
    """Text lines: one per file, newest load first."""
    if not files:
        return []
    shown = files if limit is None else files[:limit]
    lines = [f"  {'file':<44}{'landed':>10}{'duplicate':>10}{'skipped':>9}{'rejected':>10}"]
    for row in shown:
        if row.get("problem"):
            lines.append(f"  {row['path']:<44}  unreadable, quarantined as a file: {row['problem']}")
            continue
        lines.append(
            f"  {row['path']:<44}{row['landed']:>10,}{row['duplicates']:>10,}"
            f"{row['skipped']:>9,}{row['rejected']:>10,}"
        )
    if len(files) > len(shown):
        more = len(files) - len(shown)
        lines.append(f"  … and {more} more files (`productops status --json` lists them all)")
    return lines


# -- collecting -----------------------------------------------------------------------


def _from_record(record: RunRecord) -> RunInfo:
    return RunInfo(
        run_id=record.run_id,
        status=record.status,
        trigger=record.trigger,
        started_at=record.started_at,
        finished_at=record.finished_at,
        duration_seconds=record.duration_seconds,
        origin="last_run.json",
        nothing_new=record.nothing_new,
    )


def _latest_dagster_run() -> tuple[RunInfo | None, list[GateResult], bool]:
    """The newest run of the pipeline's job in the instance under $DAGSTER_HOME, if any."""
    home = os.environ.get("DAGSTER_HOME")
    if not home or not Path(home).is_dir():
        return None, [], False
    import dagster as dg

    from orchestration.run_history import ALL_JOB_NAME
    from orchestration.run_record import gate_results

    with dg.DagsterInstance.get() as instance:
        in_progress = bool(
            instance.get_run_records(
                filters=dg.RunsFilter(
                    job_name=ALL_JOB_NAME,
                    statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING],
                ),
                limit=1,
            )
        )
        records = instance.get_run_records(filters=dg.RunsFilter(job_name=ALL_JOB_NAME), limit=1)
        if not records:
            return None, [], in_progress
        record = records[0]
        run = record.dagster_run
        entries = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
        gates = gate_results(e.dagster_event for e in entries if e.dagster_event)

    def iso(ts: float | None) -> str | None:
        return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds") if ts else None

    status = run.status.value.lower().replace("_", " ")
    status = {"started": "in progress", "starting": "in progress"}.get(status, status)
    trigger = (
        run.tags.get("dagster/schedule_name")
        or run.tags.get("dagster/sensor_name")
        or run.tags.get("productops/trigger")
        or "ui"
    )
    start = record.start_time or record.create_timestamp.timestamp()
    info = RunInfo(
        run_id=run.run_id,
        status=status,
        trigger=trigger,
        started_at=iso(start),
        finished_at=iso(record.end_time),
        duration_seconds=(record.end_time - start) if record.end_time else None,
        origin="dagster",
    )
    return info, gates, in_progress


def _dagster_side(
    record: RunRecord | None, notes: list[str]
) -> tuple[RunInfo | None, list[GateResult], bool]:
    """What Dagster knows beyond the run record. A glance at its SQLite run history
    (no Dagster import, milliseconds) settles the common case, where the newest run
    is the one the record describes and none is in progress; otherwise ask Dagster."""
    home = os.environ.get("DAGSTER_HOME")
    if not home or not Path(home).is_dir():
        return None, [], False
    runs = glance(Path(home))
    recorded = record.run_id if record is not None else None
    if runs is not None and not runs.in_progress and runs.newest_run_id in (None, recorded):
        return None, [], False
    # Dead runs are marked failed first, so a killed run never shows as in progress
    # (imported here: it loads Dagster, which the common case above never needs).
    from orchestration.run_guard import check_instance_runs

    notes.extend(check_instance_runs())
    return _latest_dagster_run()


def collect_status(settings: Settings) -> Status:
    status = Status()
    record = read_record(record_path(settings.warehouse))
    try:
        dagster_run, dagster_gates, in_progress = _dagster_side(record, status.notes)
    except Exception as exc:  # e.g. a production dagster.yaml whose database is unreachable from here
        dagster_run, dagster_gates, in_progress = None, [], False
        status.notes.append(f"The Dagster instance under $DAGSTER_HOME could not be read: {exc}")

    if record is not None:
        status.run, status.gates = _from_record(record), list(record.gates)
        status.dbt_tests = dict(record.dbt_tests)
    if dagster_run is not None and (
        status.run is None
        or (
            dagster_run.run_id != status.run.run_id and (dagster_run.started_at or "") > status.run.started_at
        )
    ):
        status.run, status.gates, status.dbt_tests = dagster_run, dagster_gates, {}
    elif dagster_run is not None and dagster_run.run_id == status.run.run_id and not status.gates:
        status.gates = dagster_gates

    status.sources, status.sources_origin = _sources(settings, record, in_progress, status)
    status.published = _published(settings)
    return status


def _sources(
    settings: Settings, record: RunRecord | None, in_progress: bool, status: Status
) -> tuple[list[dict[str, Any]], str]:
    """The source streams; `status.files` (the file fates) and `status.unmatched_usage`
    are filled from the same place."""
    notes, files = status.notes, status.files
    files[:] = record.files if record else []
    recorded = (record.sources if record else [], "last_run.json")
    if in_progress:
        notes.append("A run is in progress: sources are shown as recorded at the end of the last CLI run.")
        return recorded
    if not settings.warehouse.exists():
        return [], "warehouse"
    try:
        with duckdb.connect(str(settings.warehouse), read_only=True) as con:
            files[:] = read_file_fates(con)
            # The marts are in the warehouse on duckdb; elsewhere, read the engine's published ones.
            status.unmatched_usage = read_unmatched_usage(con) if settings.engine.name == "duckdb" else {}
            return read_source_states(con), "warehouse"
    except duckdb.IOException:
        notes.append(
            "The warehouse is busy (a run holds it): sources are shown as recorded at the end of "
            "the last CLI run."
        )
        return recorded


def _published(settings: Settings) -> dict[str, Any]:
    if settings.engine.name != "duckdb":
        return _published_on_engine(settings)
    path = settings.published
    if not path.exists():
        return {"path": str(path), "exists": False}
    mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")
    marts = sorted(p.stem for p in path.parent.glob("*.parquet"))
    return {"path": str(path), "exists": True, "published_at": mtime, "parquet_files": len(marts)}


def _published_on_engine(settings: Settings) -> dict[str, Any]:
    """The engine's published marts (postgres: schema published), and their unmatched usage."""
    import psycopg

    from orchestration.published import NotPublished, PublishedSource, connect, published_at, tables

    source = PublishedSource.of(settings)
    try:
        with connect(source) as con:
            marts = tables(con, source)
        when = published_at(source).isoformat(timespec="seconds")
    except NotPublished:
        return {"path": source.where, "exists": False}
    except psycopg.Error as exc:  # libpq's message names host and user, never the password
        return {"path": f"{source.where} (unreachable: {str(exc).strip().splitlines()[0]})", "exists": False}
    return {"path": source.where, "exists": True, "published_at": when, "marts": len(marts)}


# -- rendering ------------------------------------------------------------------------


def _parse(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def ago(value: Any, now: datetime | None = None) -> str:
    moment = _parse(value)
    if moment is None:
        return ""
    seconds = ((now or datetime.now(UTC)) - moment).total_seconds()
    if seconds < 0:
        return "in the future"
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            amount = int(seconds // size)
            return f"{amount} {unit}{'s' if unit == 'day' and amount > 1 else ''} ago"
    return f"{int(seconds)} s ago"


def _when(value: Any) -> str:
    moment = _parse(value)
    if moment is None:
        return "—"
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC ({ago(moment)})"


def per_source(streams: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Streams rolled up by source: newest load, rows of the last loads, newest cursor."""
    sources: dict[str, dict[str, Any]] = {}
    for row in streams:
        entry = sources.setdefault(
            row["source"],
            {
                "source": row["source"],
                "streams": 0,
                "last_load_at": None,
                "rows": 0,
                "rejected": 0,
                "cursor": None,
            },
        )
        entry["streams"] += 1
        entry["rows"] += row.get("rows_landed") or 0
        entry["rejected"] += row.get("rows_rejected") or 0
        if (row.get("last_load_at") or "") > (entry["last_load_at"] or ""):
            entry["last_load_at"] = row["last_load_at"]
        cursor = _parse(row.get("cursor"))
        if cursor and (entry["cursor"] is None or cursor > entry["cursor"]):
            entry["cursor"] = cursor
    return list(sources.values())


def render(status: Status, show_streams: bool = False) -> str:
    lines = ["Product Ops Warehouse: status", ""]
    run = status.run
    lines.append("Last run")
    if run is None:
        lines.append("  none recorded yet: run `productops run` (or start productops_all in Dagster).")
    else:
        duration = f"{run.duration_seconds:.1f} s" if run.duration_seconds is not None else "—"
        lines += [
            f"  run        {run.run_id}",
            f"  outcome    {run.status.upper()}  (trigger: {run.trigger}; from {run.origin})",
            f"  started    {_when(run.started_at)}",
            f"  duration   {duration}",
        ]
        if run.nothing_new:
            lines.append(f"  built      nothing new, dbt and publish skipped: {run.nothing_new}")
    published = status.published
    if published.get("exists"):
        lines.append(
            f"  published  {published['path']}  ({_when(published['published_at'])}, "
            + (
                f"{published['parquet_files']} Parquet files beside it)"
                if "parquet_files" in published
                else f"{published['marts']} marts)"
            )
        )
    elif published:
        lines.append(f"  published  nothing yet at {published['path']}")

    origin = status.sources_origin
    if origin == "warehouse":
        origin = "raw.load_log + raw.load_state"
    lines += ["", f"Sources (from {origin})"]
    if not status.sources:
        lines.append("  nothing landed yet.")
    else:
        header = f"{'source':<10}{'streams':>8}{'rows (last load)':>18}{'rejected':>10}  {'last load':<34}"
        lines.append(f"  {header}newest record (cursor)")
        for entry in per_source(status.sources):
            cursor = _when(entry["cursor"]) if entry["cursor"] else "—"
            lines.append(
                f"  {entry['source']:<10}{entry['streams']:>8}{entry['rows']:>18,}{entry['rejected']:>10,}  "
                f"{_when(entry['last_load_at']):<34}{cursor}"
            )
        if any(not entry["cursor"] for entry in per_source(status.sources)):
            lines.append("  (file sources keep no cursor: their last load is their freshness)")
        if show_streams:
            lines += ["", f"  {'source/stream':<44}{'pages':>6}{'rows':>10}{'rejected':>10}  cursor"]
            for row in status.sources:
                name = f"{row['source']}/{row['stream']}"
                lines.append(
                    f"  {name:<44}{row.get('pages') or 0:>6}{row.get('rows_landed') or 0:>10,}"
                    f"{row.get('rows_rejected') or 0:>10,}  {row.get('cursor') or '—'}"
                )

    if status.files:
        lines += ["", "Files (each line's fate as the file last landed, from raw.loaded_files)"]
        lines += render_file_fates(status.files)
    if status.unmatched_usage:
        lines += ["", *render_unmatched_usage(status.unmatched_usage)]

    lines += ["", "Gates" + (f" of run {run.run_id[:8]}" if run else "")]
    if not status.gates:
        lines.append("  no gate results recorded for this run.")
    else:
        labels = {"gate": "raw-layer gates", "dbt_test": "dbt tests"}
        summary = summarise_gates(status.gates)
        if status.dbt_tests:  # dbt's own count: the one `productops run` printed
            summary["dbt_test"] = {"passed": 0, "failed": 0, "warned": 0, **status.dbt_tests}
        for kind, counts in sorted(summary.items(), key=lambda item: item[0] != "gate"):
            extra = f", {counts['warned']} warned" if counts["warned"] else ""
            lines.append(
                f"  {labels.get(kind, kind):<16} {counts['passed']} passed, {counts['failed']} failed{extra}"
            )
        for gate in status.gates:
            if gate.outcome != "passed":
                detail = f": {gate.description}" if gate.description else ""
                lines.append(f"  {gate.outcome.upper():<7} {gate.asset} {gate.check}{detail}")
    for note in status.notes:
        lines += ["", f"Note: {note}"]
    return "\n".join(lines)


def to_json(status: Status) -> str:
    data = asdict(status)
    data["exit_code"] = status.exit_code
    return json.dumps(data, indent=2, default=str)
