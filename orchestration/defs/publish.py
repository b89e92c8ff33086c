"""The publish step: the marts reach readers only from a run whose gates all passed."""

import logging
import time
from datetime import UTC, datetime

import dagster as dg

from orchestration import build_inputs
from orchestration.defs.dbt import productops_dbt
from orchestration.defs.sources import RAW_STREAMS
from orchestration.engine import engine_for
from orchestration.gates.ledger import unvalidated_counts
from orchestration.publishing import published_record_path
from orchestration.resources import WarehouseResource
from orchestration.run_record import RunRecord, gate_results, now_iso, write_record
from orchestration.status import read_source_states

MART_KEYS = [spec.key for spec in productops_dbt.specs if spec.group_name == "marts"]
RAW_TABLE_SOURCES = {
    raw_table: source for source, streams in RAW_STREAMS.items() for _, raw_table, _ in streams
}

progress = logging.getLogger("orchestration.progress")


def publish_blockers(context: dg.AssetExecutionContext, unvalidated: dict[str, int]) -> list[str]:
    """Why this run must not publish; empty when it may.

    Dagster already skips this step when an upstream step or blocking check
    failed; these rules also hold when someone materializes it on its own.
    """
    instance, run_id = context.instance, context.run.run_id
    blockers = []
    checks = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    for record in checks:
        check = record.event_log_entry.dagster_event.asset_check_evaluation_data
        if not check.passed and check.severity == dg.AssetCheckSeverity.ERROR:
            blockers.append(f"gate {check.asset_key.to_user_string()} · {check.check_name} failed")
    built = {
        record.event_log_entry.dagster_event.asset_key
        for record in instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
        ).records
    }
    missing = [key.to_user_string() for key in MART_KEYS if key not in built]
    if missing:
        blockers.append(f"{len(missing)} marts were not built in this run (e.g. {missing[0]})")
    for raw_table, rows in sorted(unvalidated.items()):
        blockers.append(f"raw.{raw_table} holds {rows} rows no gate has passed")
    return blockers


def _record_publishing_run(
    context: dg.AssetExecutionContext, rows: dict[str, int], sources: list[dict], published
) -> None:
    """Beside the marts, what readers may want to know of the run that published them: its gates
    and each source's last load (the dashboard's Data health page reads it; the pipeline's own
    `logs/last_run.json` is out of their reach)."""
    run = context.instance.get_run_record_by_id(context.run.run_id)
    events = context.instance.get_records_for_run(
        context.run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    started = run.start_time if run and run.start_time else None
    record = RunRecord(
        run_id=context.run.run_id,
        status="success",
        started_at=datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds") if started else "",
        finished_at=now_iso(),
        duration_seconds=round(time.time() - started, 1) if started else 0.0,
        trigger=context.run.tags.get("productops/trigger")
        or context.run.tags.get("dagster/schedule_name")
        or context.run.tags.get("dagster/sensor_name")
        or "ui",
        published=str(published),
        published_rows=rows,
        sources=sources,
        gates=gate_results(r.event_log_entry.dagster_event for r in events),
    )
    write_record(record, published_record_path(published))


@dg.asset(
    key=dg.AssetKey(["published", "productops"]),
    deps=MART_KEYS,
    group_name="published",
    kinds={"duckdb", "parquet", "postgres", "spark"},
    owners=["team:product-ops"],
    pool="duckdb",
)
def published_marts(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """The marts as readers see them: on duckdb a DuckDB file replaced atomically, plus one
    Parquet file per mart beside it; on postgres schema published, swapped in one transaction.
    Only a run that built the marts and passed every gate publishes; a failed run leaves the
    last published marts untouched."""
    settings = warehouse.settings()
    with warehouse.connect() as con:
        blockers = publish_blockers(context, unvalidated_counts(con, RAW_TABLE_SOURCES))
        if blockers:
            raise dg.Failure(
                "not published; readers keep the last published marts: " + "; ".join(blockers),
                allow_retries=False,
            )
        engine = engine_for(settings)
        rows = engine.publish(settings, con, [key.path[-1] for key in MART_KEYS])
        # What these marts were built from: a later run with the same inputs skips dbt and publish.
        build_inputs.record_publish(con, context.run.run_id)
        _record_publishing_run(context, rows, read_source_states(con), settings.published)
    where = engine.describe_published(settings)
    progress.info("published %d marts to %s", len(rows), where)
    metadata = {"engine": engine.name, "where": where, "rows": dg.MetadataValue.json(rows)}
    if engine.name == "duckdb":
        metadata["path"] = dg.MetadataValue.path(str(settings.published))
        metadata["parquet_dir"] = dg.MetadataValue.path(str(settings.published.parent))
    return dg.MaterializeResult(metadata=metadata)
