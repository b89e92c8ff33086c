"""The one door in: every asset, check, job and schedule of the code location."""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.dbt_setup import dbt_executable, dbt_project
from orchestration.defs.checks import raw_checks
from orchestration.defs.dbt import productops_dbt
from orchestration.defs.publish import published_marts
from orchestration.defs.sources import source_assets
from orchestration.resources import WarehouseResource

ALL_JOB_NAME = "productops_all"

productops_all = dg.define_asset_job(
    ALL_JOB_NAME,
    selection=dg.AssetSelection.all(),
    description="Extract every configured source, gate, build the marts and publish them.",
    # One process: DuckDB takes one writer, and each multiprocess step would
    # re-import the code location (~2 s a step).
    executor_def=dg.in_process_executor,
)

daily = dg.ScheduleDefinition(
    name="productops_daily",
    job=productops_all,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)

defs = dg.Definitions(
    assets=[*source_assets, productops_dbt, published_marts],
    asset_checks=raw_checks,
    jobs=[productops_all],
    schedules=[daily],
    resources={
        "warehouse": WarehouseResource(),
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
    },
)
