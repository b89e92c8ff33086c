"""The publish step: runs only when every upstream asset and blocking check passed."""

import logging

import dagster as dg

from orchestration.defs.dbt import productops_dbt
from orchestration.publishing import publish_marts
from orchestration.resources import WarehouseResource

MART_KEYS = [spec.key for spec in productops_dbt.specs if spec.group_name == "marts"]

progress = logging.getLogger("orchestration.progress")


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
    per mart beside it. A failed run never gets here, so readers keep the last good state."""
    settings = warehouse.settings()
    with warehouse.connect() as con:
        published = publish_marts(con, settings.published)
    progress.info("published %d marts to %s", len(published.rows), published.database)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(published.database)),
            "rows": dg.MetadataValue.json(published.rows),
        }
    )
