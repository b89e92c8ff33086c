"""The publish step: the marts reach readers only from a run whose gates all passed."""

import logging

import dagster as dg

from orchestration.defs.dbt import productops_dbt
from orchestration.defs.sources import RAW_STREAMS
from orchestration.gates.ledger import unvalidated_counts
from orchestration.publishing import publish_marts
from orchestration.resources import WarehouseResource

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


@dg.asset(
    key=dg.AssetKey(["published", "productops"]),
    deps=MART_KEYS,
    group_name="published",
    kinds={"duckdb", "parquet"},
    owners=["team:product-ops"],
    pool="duckdb",
)
def published_marts(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """The marts as readers see them: a DuckDB file replaced atomically, plus one Parquet file
    per mart beside it. Only a run that built the marts and passed every gate publishes; a
    failed run leaves the last published files untouched."""
    settings = warehouse.settings()
    with warehouse.connect() as con:
        blockers = publish_blockers(context, unvalidated_counts(con, RAW_TABLE_SOURCES))
        if blockers:
            raise dg.Failure(
                "not published; readers keep the last published marts: " + "; ".join(blockers),
                allow_retries=False,
            )
        published = publish_marts(con, settings.published, [key.path[-1] for key in MART_KEYS])
    progress.info("published %d marts to %s", len(published.rows), published.database)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(published.database)),
            "parquet_dir": dg.MetadataValue.path(str(published.database.parent)),
            "rows": dg.MetadataValue.json(published.rows),
        }
    )
