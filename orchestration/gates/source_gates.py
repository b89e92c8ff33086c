"""The gates of one source's batch, run after it landed and before dbt reads it.

For each raw table of the source: its Great Expectations suite (keys, times,
categories, scales) and its volume against the previous validated load. For
the source as a whole: the share of records quarantined in this run, and the
age of its newest record. Every outcome names the check, the table and how
many rows or records failed. The ledger then validates the batch, or records
the failure and rewinds the source (see `orchestration.gates.ledger`).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb

from ingestion.config import Settings
from ingestion.raw_tables import RAW_SCHEMA
from orchestration.gates import in_engine, ledger
from orchestration.gates.expectations import SENSITIVE_COLUMNS, SuiteContext, TableSuite, suite_for

log = logging.getLogger(__name__)

EXPECTATIONS = "batch_expectations"
VOLUME = "volume_not_collapsed"
REJECTED_SHARE = "rejected_share_within_threshold"
FRESHNESS = "source_is_fresh"

# The instant that tells how recent a source is: (raw table, column).
FRESHNESS_COLUMNS: dict[str, tuple[str, str]] = {
    "jira": ("jira_issues", "updated_at"),
    "github": ("github_issues", "updated_at"),
    "linear": ("linear_issues", "updated_at"),
    "okta": ("okta_system_log", "published_at"),
    "usage": ("usage_events", "occurred_at"),
    "surveys": ("survey_responses", "submitted_at"),
}

SAMPLE_SIZE = 3
REASONS_SHOWN = 5
# Anything shaped like an email is blanked from what a gate reports.
EMAIL = re.compile(r"[^\s\"',;:<>()\[\]{}]+@[^\s\"',;:<>()\[\]{}]+")


def scrub_emails(text: str) -> str:
    return EMAIL.sub("<redacted>", text)


@dataclass(frozen=True)
class SourceTables:
    """A source and its raw tables: (table as in dbt / the asset key, raw table)."""

    source: str
    tables: tuple[tuple[str, str], ...]

    def table_of(self, raw_table: str) -> str:
        return next(table for table, raw in self.tables if raw == raw_table)


@dataclass(frozen=True)
class GateOutcome:
    table: str  # the asset key's table part, e.g. "issues" of ["jira", "issues"]
    check: str
    passed: bool
    message: str
    failing: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)


def gate_names(source: SourceTables) -> list[tuple[str, str, str]]:
    """(table, check, description) of every gate the source gets; static, for Dagster."""
    names: list[tuple[str, str, str]] = []
    for table, raw_table in source.tables:
        names.append((table, EXPECTATIONS, f"raw.{raw_table}: the batch meets its Great Expectations suite."))
        names.append(
            (
                table,
                VOLUME,
                f"raw.{raw_table}: the table did not shrink more than allowed since the last validated load.",
            )
        )
    first_table = source.tables[0][0]
    names.append(
        (
            first_table,
            REJECTED_SHARE,
            f"{source.source}: the share of records quarantined in this run is under the threshold.",
        )
    )
    if source.source in FRESHNESS_COLUMNS:
        raw_table, column = FRESHNESS_COLUMNS[source.source]
        if any(raw == raw_table for _, raw in source.tables):
            names.append(
                (
                    source.table_of(raw_table),
                    FRESHNESS,
                    f"{source.source}: the newest raw.{raw_table}.{column} is within the freshness window.",
                )
            )
    return names


def reference_time(settings: Settings) -> datetime:
    """ "Now" for the gates: the demo organisation is frozen at its history end."""
    if settings.demo_mode:
        info = settings.demo_dir / "generator.json"
        if info.exists():
            history_end = json.loads(info.read_text()).get("history_end")
            if history_end:
                return datetime.fromisoformat(history_end).astimezone(UTC)
    return datetime.now(UTC)


def run_source_gates(
    con: duckdb.DuckDBPyConnection, source: SourceTables, run_id: str, settings: Settings
) -> list[GateOutcome]:
    """Run every gate of one source on its unvalidated rows and settle the ledger."""
    ledger.ensure_ledger(con)
    ctx = SuiteContext(settings=settings, reference_time=reference_time(settings))
    outcomes: list[GateOutcome] = []
    volumes: dict[str, ledger.Volume] = {}
    runs_checked: set[str] = set()
    try:
        for table, raw_table in source.tables:
            suite = suite_for(raw_table, ctx)
            query = suite.query.format(batch=ledger.unvalidated_rows(raw_table, source.source))
            by_run = dict(con.execute(f"select _run_id, count(*) from ({query}) group by 1").fetchall())
            runs_checked.update(r for r in by_run if r is not None)
            volumes[raw_table] = ledger.Volume(by_run.get(run_id, 0), live_rows(con, raw_table))
            outcomes.append(_expectations(con, table, suite, query, sum(by_run.values())))
            outcomes.append(_volume(con, table, raw_table, volumes[raw_table], settings))
        outcomes.append(_rejected_share(con, source, run_id, settings))
        freshness = _freshness(con, source, run_id, settings, ctx.reference_time)
        if freshness is not None:
            outcomes.append(freshness)
    except Exception:
        # A gate that cannot run has not passed: rewind as for a failure.
        ledger.record_failure(con, source.source, run_id, volumes, ["gates could not run"])
        raise
    failed = [f"{o.table}/{o.check}" for o in outcomes if not o.passed]
    if failed:
        ledger.record_failure(con, source.source, run_id, volumes, failed)
        log.error(
            "%s: %d gate(s) failed; the source is rewound to its last validated load",
            source.source,
            len(failed),
        )
    else:
        ledger.record_pass(con, source.source, run_id, volumes, runs_checked)
    return outcomes


# -- the gates -------------------------------------------------------------------


def _expectations(
    con: duckdb.DuckDBPyConnection, table: str, suite: TableSuite, query: str, rows: int
) -> GateOutcome:
    # Evaluated by DuckDB where the batch lies: no copy into pandas, no Great Expectations import.
    failures = in_engine.evaluate(con, suite, query, SAMPLE_SIZE, scrub_emails)
    count = len(suite.expectations)
    metadata = {"rows_checked": rows, "expectations": count, "expectations_failed": len(failures)}
    if not failures:
        message = f"raw.{suite.raw_table}: {rows} rows checked, all {count} expectations met"
        return GateOutcome(table, EXPECTATIONS, True, message, 0, metadata)
    failing = sum(f["unexpected"] for f in failures)
    details = "; ".join(_describe(f) for f in failures)
    message = (
        f"raw.{suite.raw_table}: {len(failures)} of {count} expectations failed "
        f"on {rows} rows checked — {details}"
    )
    return GateOutcome(table, EXPECTATIONS, False, message, failing, {**metadata, "failing_values": failing})


def validate(suite: TableSuite, batch) -> list[dict[str, Any]]:
    """The failed expectations of a batch (a pandas DataFrame) as Great Expectations finds them.

    The reference the in-engine evaluation is tested against; runs use `in_engine.evaluate`.
    """
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    batch_definition = (
        context.data_sources.add_pandas("raw")
        .add_dataframe_asset(suite.raw_table)
        .add_batch_definition_whole_dataframe("unvalidated_rows")
    )
    gx_suite = gx.ExpectationSuite(
        name=f"raw.{suite.raw_table}", expectations=[e.to_gx() for e in suite.expectations]
    )
    result = batch_definition.get_batch(batch_parameters={"dataframe": batch}).validate(
        gx_suite, result_format={"result_format": "SUMMARY", "partial_unexpected_count": 20}
    )
    failures = []
    for outcome in result.results:
        if outcome.success:
            continue
        config = outcome.expectation_config
        error = outcome.exception_info or {}
        column = config.kwargs.get("column")
        failures.append(
            {
                "expectation": config.type,
                "description": config.description or config.type,
                "column": column,
                "unexpected": int(outcome.result.get("unexpected_count") or 0),
                "checked": int(outcome.result.get("element_count") or 0),
                "sample": [] if column in SENSITIVE_COLUMNS else _sample(config.type, outcome.result),
                "error": error.get("exception_message") if error.get("raised_exception") else None,
            }
        )
    return failures


def _sample(expectation: str, result: dict[str, Any]) -> list[str]:
    values = [
        tuple(value.values()) if isinstance(value, dict) else value
        for value in result.get("partial_unexpected_list") or []
    ]
    return in_engine.sample_text(expectation, None, values, SAMPLE_SIZE, scrub_emails)


def _describe(failure: dict[str, Any]) -> str:
    if failure["error"]:
        return f"{failure['description']}: could not be evaluated ({failure['error']})"
    text = f"{failure['description']}: {failure['unexpected']} of {failure['checked']} rows fail"
    if failure["sample"]:
        text += " (e.g. " + "; ".join(failure["sample"]) + ")"
    return text


def live_rows(con: duckdb.DuckDBPyConnection, raw_table: str) -> int:
    """Rows of a raw table that staging reads (soft-deleted entities left out)."""
    columns = {
        name
        for (name,) in con.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
            [RAW_SCHEMA, raw_table],
        ).fetchall()
    }
    live = " where not is_deleted" if "is_deleted" in columns else ""
    return con.execute(f"select count(*) from {RAW_SCHEMA}.{raw_table}{live}").fetchall()[0][0]


def _volume(
    con: duckdb.DuckDBPyConnection, table: str, raw_table: str, volume: ledger.Volume, settings: Settings
) -> GateOutcome:
    """The table after this load against the table after the previous validated load.

    Loads merge, so only a replaced file, a re-export or a deletion sweep can
    shrink a table; a batch's own size says little (an incremental load of a
    quiet day is small by nature).
    """
    previous = ledger.previous_load(con, raw_table)
    max_drop = settings.volume_max_drop
    rows = volume.table_rows
    metadata: dict[str, Any] = {"rows_landed": volume.batch_rows, "table_rows": rows, "max_drop": max_drop}
    if previous is None or previous.rows < settings.volume_min_rows:
        message = (
            f"raw.{raw_table}: {rows} rows after this load ({volume.batch_rows} landed); "
            f"no previous load of {settings.volume_min_rows}+ rows to compare"
        )
        return GateOutcome(table, VOLUME, True, message, 0, metadata)
    drop = 1 - rows / previous.rows
    metadata |= {"previous_rows": previous.rows, "previous_run_id": previous.run_id, "drop": round(drop, 4)}
    passed = rows >= previous.rows * (1 - max_drop)
    message = (
        f"raw.{raw_table}: {rows} rows after this load ({volume.batch_rows} landed), "
        f"{max(drop, 0):.0%} fewer than after the previous load ({previous.rows} rows); "
        f"at most {max_drop:.0%} fewer allowed"
    )
    return GateOutcome(table, VOLUME, passed, message, 0 if passed else previous.rows - rows, metadata)


def _rejected_share(
    con: duckdb.DuckDBPyConnection, source: SourceTables, run_id: str, settings: Settings
) -> GateOutcome:
    threshold = settings.rejected_share_threshold
    min_count = settings.rejected_min_count.get(source.source, 0)
    landed, rejected = con.execute(
        f"""
        select coalesce(sum(rows_landed), 0), coalesce(sum(rows_rejected), 0)
        from {RAW_SCHEMA}.load_log where run_id = ? and source = ?
        """,
        [run_id, source.source],
    ).fetchall()[0]
    reasons = top_reasons(con, source.source, run_id)
    total = landed + rejected
    share = rejected / total if total else 0.0
    # Both must be exceeded: a share of a small batch says little.
    passed = share <= threshold or rejected < min_count
    message = (
        f"{source.source}: {rejected} of {total} records rejected in this run ({share:.2%}); "
        f"threshold {threshold:.2%} and at least {min_count} records"
    )
    if reasons and not passed:
        message += "; top reasons: " + ", ".join(f"{n} × {reason}" for reason, n in reasons)
    metadata = {
        "rejected": int(rejected),
        "landed": int(landed),
        "share": round(share, 6),
        "threshold": threshold,
        "min_count": min_count,
        "top_reasons": "\n".join(f"- {n} × {reason}" for reason, n in reasons) or "none",
    }
    return GateOutcome(
        source.tables[0][0], REJECTED_SHARE, passed, message, 0 if passed else int(rejected), metadata
    )


def top_reasons(con: duckdb.DuckDBPyConnection, source: str, run_id: str) -> list[tuple[str, int]]:
    """The commonest quarantine reasons of a run, without their file:line prefix
    (so alike reasons group) and with any email scrubbed: never respondent details."""
    rows = con.execute(
        f"""
        select regexp_replace(reason, '^[^\\s:]+:[0-9]+: ', '') as reason, count(*) as records
        from {RAW_SCHEMA}.rejected_records
        where run_id = ? and source = ?
        group by 1
        order by records desc, reason
        limit {REASONS_SHOWN}
        """,
        [run_id, source],
    ).fetchall()
    return [(scrub_emails(reason)[:120], int(n)) for reason, n in rows]


def _freshness(
    con: duckdb.DuckDBPyConnection, source: SourceTables, run_id: str, settings: Settings, now: datetime
) -> GateOutcome | None:
    if source.source not in FRESHNESS_COLUMNS:
        return None
    raw_table, column = FRESHNESS_COLUMNS[source.source]
    if not any(raw == raw_table for _, raw in source.tables):
        return None
    table = source.table_of(raw_table)
    window = settings.freshness_hours.get(source.source)
    extracted = con.execute(
        f"select count(*) from {RAW_SCHEMA}.load_log where run_id = ? and source = ?", [run_id, source.source]
    ).fetchall()[0][0]
    if window is None or not extracted:
        why = "no freshness window configured" if window is None else "not extracted in this run"
        return GateOutcome(table, FRESHNESS, True, f"{source.source}: {why}", 0, {})
    newest = con.execute(f"select max({column}) from {RAW_SCHEMA}.{raw_table}").fetchall()[0][0]
    if newest is None:
        message = f"{source.source}: raw.{raw_table} holds no rows at all; window {window:g} h"
        return GateOutcome(table, FRESHNESS, False, message, 0, {"window_hours": window})
    age_hours = (now - newest).total_seconds() / 3600
    passed = age_hours <= window
    message = (
        f"{source.source}: newest raw.{raw_table}.{column} is {newest.astimezone(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{age_hours:.0f} h before {now:%Y-%m-%d %H:%M} UTC; window {window:g} h"
    )
    metadata = {"newest": newest.isoformat(), "age_hours": round(age_hours, 1), "window_hours": window}
    return GateOutcome(table, FRESHNESS, passed, message, 0 if passed else 1, metadata)
