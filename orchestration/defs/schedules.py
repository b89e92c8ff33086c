"""The daily schedule. Cron and time zone come from the environment.

`PRODUCTOPS_SCHEDULE_CRON` (default `0 6 * * *`) and `PRODUCTOPS_SCHEDULE_TZ`
(an IANA name, default `UTC`) are read when the code location loads: they are
settings, not secrets, and Dagster needs the cron to plan ticks. A bad value
fails the load with a message that names the variable.
"""

import os
from collections.abc import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dagster as dg

from ingestion.config import ConfigError
from orchestration.defs.jobs import productops_all

SCHEDULE_NAME = "productops_daily"
CRON_VAR = "PRODUCTOPS_SCHEDULE_CRON"
TZ_VAR = "PRODUCTOPS_SCHEDULE_TZ"
DEFAULT_CRON = "0 6 * * *"
DEFAULT_TZ = "UTC"


def daily_schedule(env: Mapping[str, str] | None = None) -> dg.ScheduleDefinition:
    """The schedule of the whole pipeline, off until someone turns it on."""
    env = os.environ if env is None else env
    cron = env.get(CRON_VAR, "").strip() or DEFAULT_CRON
    tz = env.get(TZ_VAR, "").strip() or DEFAULT_TZ
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{TZ_VAR}={tz!r} is not an IANA time zone (e.g. Europe/Paris)") from exc
    try:
        return dg.ScheduleDefinition(
            name=SCHEDULE_NAME,
            job=productops_all,
            cron_schedule=cron,
            execution_timezone=tz,
            description=(
                f"Runs the whole pipeline at `{cron}` ({tz}). "
                f"Set {CRON_VAR} and {TZ_VAR} to change it; turn it on in the UI or with "
                f"`dagster schedule start {SCHEDULE_NAME}`."
            ),
            default_status=dg.DefaultScheduleStatus.STOPPED,
            tags={"productops/trigger": "schedule"},
        )
    except dg.DagsterInvalidDefinitionError as exc:
        raise ConfigError(
            f"{CRON_VAR}={cron!r} is not a five-field cron expression (e.g. '0 6 * * 1-5')"
        ) from exc
