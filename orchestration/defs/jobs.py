"""The one job: the whole pipeline, in one process."""

import dagster as dg

ALL_JOB_NAME = "productops_all"

productops_all = dg.define_asset_job(
    ALL_JOB_NAME,
    selection=dg.AssetSelection.all(),
    description="Extract every configured source, gate, build the marts and publish them.",
    # One process: DuckDB takes one writer, and each multiprocess step would
    # re-import the code location (~2 s a step).
    executor_def=dg.in_process_executor,
)
