"""Notifications: new KPI alerts after each publish, and the weekly digest.

Both send through the channels configured in the environment
(`PRODUCTOPS_ALERT_WEBHOOK_URL`, `PRODUCTOPS_SMTP_*`), read the published marts
and record what went in `ops.notifications_sent`. A delivery failure never fails
the step: the publish stands, and what was not sent is tried again next time.
"""

import logging
import os
from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
import psycopg

from ingestion.config import ConfigError
from orchestration.defs.schedules import env_schedule
from orchestration.notify.channels import channels_from_env
from orchestration.notify.deliver import (
    Notification,
    Outcome,
    alert_notifications,
    deliver,
    digest_notifications,
    read_alerts,
)
from orchestration.published import NotPublished, PublishedSource
from orchestration.resources import WarehouseResource

DIGEST_JOB_NAME = "productops_weekly_digest"
DIGEST_SCHEDULE_NAME = "productops_weekly_digest"
DIGEST_CRON_VAR = "PRODUCTOPS_DIGEST_CRON"
DIGEST_TZ_VAR = "PRODUCTOPS_DIGEST_TZ"
DEFAULT_DIGEST_CRON = "0 8 * * 1"  # Monday, 08:00
DEFAULT_DIGEST_TZ = "UTC"

progress = logging.getLogger("orchestration.progress")


def _send(context, warehouse: WarehouseResource, build) -> dict:
    """Build the notifications and deliver them; every failure is logged, none raised."""
    try:
        channels = channels_from_env(os.environ)
        if not channels:
            return {"channels": "none configured", "sent": 0}
        settings = warehouse.settings()
        notes: list[Notification] = build(settings)
        with warehouse.connect() as con:
            outcome: Outcome = deliver(con, notes, channels, context.run.run_id)
    except (ConfigError, OSError, RuntimeError, ValueError, NotPublished, psycopg.Error) as exc:
        # duckdb's errors are RuntimeErrors; none of these messages holds a secret (libpq's
        # name the host and user, never the password).
        context.log.warning(f"notifications not sent, retried next run: {type(exc).__name__}: {exc}")
        return {"error": f"{type(exc).__name__}: {exc}"[:500]}
    progress.info("notifications: %s", outcome.summary())
    return {
        "channels": ", ".join(c.name for c in channels),
        "sent": len(outcome.sent),
        "already_sent": outcome.already_sent,
        "left_for_next_run": len(outcome.failed) + outcome.postponed,
    }


@dg.asset(
    key=dg.AssetKey(["notifications", "kpi_alerts_sent"]),
    deps=[dg.AssetKey(["published", "productops"])],
    group_name="published",
    kinds={"duckdb"},
    owners=["team:product-ops"],
    pool="duckdb",
)
def kpi_alerts_sent(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """New rows of marts.kpi_alerts sent once each, after the publish, to the webhook
    (PRODUCTOPS_ALERT_WEBHOOK_URL) and/or by email (PRODUCTOPS_SMTP_*). What went is
    recorded in ops.notifications_sent; a failure never fails the run and is retried
    by the next one."""
    return dg.MaterializeResult(metadata=send_pending_alerts(context, warehouse))


def send_pending_alerts(context, warehouse: WarehouseResource) -> dict:
    """The published marts' alerts not sent yet: after a publish, and in a run with nothing new
    (which skips publish and this step, but must still retry what an earlier run failed to send)."""
    return _send(context, warehouse, lambda s: alert_notifications(read_alerts(PublishedSource.of(s))))


@dg.op(pool="duckdb")
def send_weekly_digest(context: dg.OpExecutionContext, warehouse: WarehouseResource) -> None:
    """Each team's scorecard (KPIs against targets, arrows, open alerts), once a week."""
    tz = ZoneInfo(os.environ.get(DIGEST_TZ_VAR, "").strip() or DEFAULT_DIGEST_TZ)
    today = datetime.now(tz).date()
    metadata = _send(context, warehouse, lambda s: digest_notifications(PublishedSource.of(s), today))
    context.log.info(f"weekly digest: {metadata}")


@dg.job(name=DIGEST_JOB_NAME, executor_def=dg.in_process_executor)
def weekly_digest_job():
    """Send the weekly KPI digest of every team (no pipeline run)."""
    send_weekly_digest()


def digest_schedule(env: Mapping[str, str] | None = None) -> dg.ScheduleDefinition:
    """Monday morning in the configured time zone; on by default (it sends nothing
    until a channel is configured)."""
    return env_schedule(
        env,
        name=DIGEST_SCHEDULE_NAME,
        job=weekly_digest_job,
        cron_var=DIGEST_CRON_VAR,
        tz_var=DIGEST_TZ_VAR,
        default_cron=DEFAULT_DIGEST_CRON,
        default_tz=DEFAULT_DIGEST_TZ,
        description=(
            "Sends each team's KPI digest at `{cron}` ({tz}); "
            f"{DIGEST_CRON_VAR} and {DIGEST_TZ_VAR} change it."
        ),
        default_status=dg.DefaultScheduleStatus.RUNNING,
        cron_example=DEFAULT_DIGEST_CRON,
    )
