"""Tiny real Dagster jobs for the tests of the PostgreSQL instance.

A module of its own so that step subprocesses of the multiprocess executor can import it
(`dg.reconstructable`), and light (Dagster only) so that each step starts fast.
"""

import json
import time
from pathlib import Path

import dagster as dg

from orchestration.defs.jobs import ALL_JOB_NAME


class StampConfig(dg.Config):
    out_dir: str
    seconds: float = 1.0


def _stamp(name: str, config: StampConfig) -> None:
    """Hold the step open for a while and record when it ran, for the overlap check."""
    began = time.time()
    time.sleep(config.seconds)
    Path(config.out_dir, f"{name}.json").write_text(json.dumps([began, time.time()]))


@dg.op(pool="duckdb")
def first_writer(config: StampConfig) -> None:
    _stamp("first_writer", config)


@dg.op(pool="duckdb")
def second_writer(config: StampConfig) -> None:
    _stamp("second_writer", config)


# Two independent steps and room for both at once: only the instance's pool limit can
# make the second wait for the first.
@dg.job(executor_def=dg.multiprocess_executor.configured({"max_concurrent": 2}))
def two_duckdb_writers() -> None:
    first_writer()
    second_writer()


@dg.asset
def landed_batch() -> int:
    return 3


@dg.asset_check(asset=landed_batch, blocking=True, description="The batch has rows.")
def batch_has_rows() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True, metadata={"rows": 3})


# Named like the pipeline's job, because `productops status` looks runs up by that name.
tiny_pipeline = dg.Definitions(
    assets=[landed_batch],
    asset_checks=[batch_has_rows],
    jobs=[dg.define_asset_job(ALL_JOB_NAME, selection=[landed_batch])],
)
