"""The one door in: every asset, check, job, schedule and sensor of the code location."""

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.dbt_setup import dbt_executable, dbt_project
from orchestration.defs.catalog import unlanded_sources, with_raw_column_schema
from orchestration.defs.checks import raw_checks
from orchestration.defs.dbt import productops_dbt
from orchestration.defs.jobs import ALL_JOB_NAME, productops_all
from orchestration.defs.notifications import digest_schedule, kpi_alerts_sent, weekly_digest_job
from orchestration.defs.publish import published_marts
from orchestration.defs.schedules import daily_schedule
from orchestration.defs.sensors import failure_alert_sensor, landing_files_sensor
from orchestration.defs.ship import raw_shipped
from orchestration.defs.sources import source_assets
from orchestration.resources import WarehouseResource

__all__ = ["ALL_JOB_NAME", "defs"]

_assets = [
    *with_raw_column_schema(source_assets),
    raw_shipped,
    productops_dbt,
    published_marts,
    kpi_alerts_sent,
]

defs = dg.Definitions(
    assets=[*_assets, *unlanded_sources(_assets)],
    asset_checks=raw_checks,
    jobs=[productops_all, weekly_digest_job],
    schedules=[daily_schedule(), digest_schedule()],
    sensors=[landing_files_sensor, failure_alert_sensor],
    resources={
        "warehouse": WarehouseResource(),
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
    },
)
