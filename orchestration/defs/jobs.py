"""The one job: the whole pipeline, in one process."""

import dagster as dg

from orchestration.run_history import ALL_JOB_NAME

__all__ = ["ALL_JOB_NAME", "productops_all", "source_selection"]

productops_all = dg.define_asset_job(
    ALL_JOB_NAME,
    selection=dg.AssetSelection.all(),
    description="Extract every configured source, gate, build the marts and publish them.",
    # One process: DuckDB takes one writer, and each multiprocess step would
    # re-import the code location (~2 s a step).
    executor_def=dg.in_process_executor,
)


def source_selection(source: str, other_sources: list[str]) -> dg.AssetSelection:
    """One source's extraction, its gates and everything downstream of it, for `run --source`.

    Downstream of any source are dbt and the publish step; dbt builds the whole
    project (the other sources' models from their last validated load), so the
    published marts stay one consistent, fully tested build.
    """
    others = dg.AssetSelection.key_prefixes(*[[other] for other in other_sources])
    others = dg.AssetSelection.groups("sources") & others
    return dg.AssetSelection.key_prefixes([source]).downstream() | (dg.AssetSelection.all() - others)
