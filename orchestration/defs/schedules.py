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


def env_schedule(
    env: Mapping[str, str] | None,
    *,
    name: str,
    job,
    cron_var: str,
    tz_var: str,
    default_cron: str,
    default_tz: str,
    description: str,
    default_status: dg.DefaultScheduleStatus,
    cron_example: str,
) -> dg.ScheduleDefinition:
    """A schedule whose cron and IANA time zone come from two environment variables.

    `description` may name `{cron}` and `{tz}`. A bad value is a ConfigError naming the variable.
    """
    env = os.environ if env is None else env
    cron = env.get(cron_var, "").strip() or default_cron
    tz = env.get(tz_var, "").strip() or default_tz
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{tz_var}={tz!r} is not an IANA time zone (e.g. Europe/Paris)") from exc
    try:
        return dg.ScheduleDefinition(
            name=name,
            job=job,
            cron_schedule=cron,
            execution_timezone=tz,
            description=description.format(cron=cron, tz=tz),
            default_status=default_status,
            tags={"productops/trigger": "schedule"},
        )
    except dg.DagsterInvalidDefinitionError as exc:
        raise ConfigError(
            f"{cron_var}={cron!r} is not a five-field cron expression (e.g. '{cron_example}')"
        ) from exc


def daily_schedule(env: Mapping[str, str] | None = None) -> dg.ScheduleDefinition:
    """The schedule of the whole pipeline, off until someone turns it on."""
    return env_schedule(
        env,
        name=SCHEDULE_NAME,
        job=productops_all,
        cron_var=CRON_VAR,
        tz_var=TZ_VAR,
        default_cron=DEFAULT_CRON,
        default_tz=DEFAULT_TZ,
        description=(
            "Runs the whole pipeline at `{cron}` ({tz}). "
            f"Set {CRON_VAR} and {TZ_VAR} to change it; turn it on in the UI or with "
            f"`dagster schedule start {SCHEDULE_NAME}`."
        ),
        default_status=dg.DefaultScheduleStatus.STOPPED,
        cron_example="0 6 * * 1-5",
    )
