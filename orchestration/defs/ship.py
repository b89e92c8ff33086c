"""The step between the gates and dbt: the raw layer, gated, shipped to the engine dbt builds on.

It depends on every raw table, so a failed blocking gate skips it and with it
everything downstream: nothing of a bad batch reaches the engine, dbt does not
run, the published marts stay as they were. On duckdb dbt reads the warehouse
itself and the step ships nothing; on another engine a run with nothing new
(the fingerprint dbt's step checks too) ships nothing either.
"""

import json
import logging

import dagster as dg

from orchestration import build_inputs
from orchestration.dbt_setup import dbt_project
from orchestration.defs.sources import RAW_STREAMS, raw_asset_key
from orchestration.engine import engine_for
from orchestration.resources import WarehouseResource

SHIPPED_KEY = dg.AssetKey(["engine", "raw_shipped"])

progress = logging.getLogger("orchestration.progress")


@dg.asset(
    key=SHIPPED_KEY,
    deps=[raw_asset_key(source, table) for source, streams in RAW_STREAMS.items() for table, _, _ in streams],
    group_name="sources",
    owners=["team:product-ops"],
    kinds={"duckdb", "postgres", "spark"},
    pool="duckdb",
)
def raw_shipped(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """The gated raw layer, copied to the engine's schema raw (PRODUCTOPS_ENGINE): COPY on
    postgres; nothing on duckdb, where dbt reads the warehouse itself."""
    settings = warehouse.settings()
    engine = engine_for(settings)
    if engine.ship is None:
        context.log.info(f"engine {engine.name}: dbt reads the warehouse's raw layer itself; nothing to ship")
        return dg.MaterializeResult(metadata={"engine": engine.name, "tables": 0})
    with warehouse.connect() as con:
        if context.run.tags.get(build_inputs.REBUILD_TAG) != "1":
            inputs = build_inputs.compute(con, settings, dbt_project.manifest_path)
            reason, _ = build_inputs.nothing_new_reason(con, inputs, settings)
            if reason:
                # dbt's step finds the same and skips the build: the engine's raw layer is not read.
                progress.info("[ship] nothing new: %s; not shipped", reason)
                skipped = {"engine": engine.name, "tables": 0, "nothing_new": reason}
                return dg.MaterializeResult(metadata=skipped)
        progress.info("[ship] raw layer to %s", settings.engine.where)
        rows = engine.ship(settings, con, None)
    progress.info("[ship] %d raw tables, %d rows", len(rows), sum(rows.values()))
    return dg.MaterializeResult(
        metadata={
            "engine": engine.name,
            "tables": len(rows),
            "rows": dg.MetadataValue.json(json.loads(json.dumps(rows))),
        }
    )
