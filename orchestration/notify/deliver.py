"""Send what has not been sent: new KPI alerts after a publish, the weekly digest.

Each notification is recorded in `ops.notifications_sent` as soon as a channel
took it, per channel; one that failed stays unrecorded and is tried again next
time. After a channel fails once, the rest of its messages wait for the next
run, so a server that is down or slow costs one timeout, not one per message.
Nothing here raises on a delivery failure: the outcome says what happened.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from orchestration.notify.channels import Channel, DeliveryError
from orchestration.notify.ledger import ensure_ledger, record_sent, sent_keys
from orchestration.notify.messages import alert_subject, alert_text, digest_subject, digest_text
from orchestration.published import PublishedSource, as_source, connect

log = logging.getLogger("orchestration.notify")


@dataclass
class Notification:
    key: str
    kind: str
    team_id: str | None
    subject: str
    text: str


@dataclass
class Outcome:
    sent: list[tuple[str, str]] = field(default_factory=list)  # (key, channel)
    already_sent: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (channel, reason)
    postponed: int = 0  # not tried after its channel failed in this run

    def summary(self) -> str:
        text = f"{len(self.sent)} sent, {self.already_sent} already sent before"
        if self.failed:
            text += f", {len(self.failed) + self.postponed} left for the next run ({self.failed[0][1]})"
        return text


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def read_alerts(published: Path | PublishedSource) -> list[dict[str, Any]]:
    """The open alerts of the published marts (a DuckDB file, or the engine's as the settings say)."""
    with connect(as_source(published)) as con:
        return _rows(con, "select * from kpi_alerts order by raised_at, team_id, kpi, rule")


def alert_notifications(alerts: list[dict[str, Any]]) -> list[Notification]:
    return [
        Notification(a["alert_id"], "alert", a["team_id"], alert_subject(a), alert_text(a)) for a in alerts
    ]


def iso_week_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def digest_notifications(
    published: Path | PublishedSource, today: date, teams: list[str] | None = None
) -> list[Notification]:
    """One digest per team with KPI targets: the latest complete period of each KPI."""
    week = iso_week_label(today)
    with connect(as_source(published)) as con:
        statuses = _rows(
            con,
            """
            select * from (
                select
                    *,
                    row_number() over (partition by team_id, kpi order by period_start desc) as recency
                from kpi_status
                where is_complete
            ) as ranked
            where recency = 1
            order by team_id, kpi
            """,
        )
        for status in statuses:
            status.pop("recency")
        alerts = _rows(con, "select * from kpi_alerts order by team_id, kpi, rule")
    team_ids = sorted({s["team_id"] for s in statuses}) if teams is None else teams
    notes = []
    for team in team_ids:
        mine = [s for s in statuses if s["team_id"] == team]
        open_alerts = [a for a in alerts if a["team_id"] == team]
        notes.append(
            Notification(
                f"digest:{team}:{week}",
                "digest",
                team,
                digest_subject(team, week),
                digest_text(team, week, mine, open_alerts),
            )
        )
    return notes


def deliver(
    con: duckdb.DuckDBPyConnection,
    notifications: list[Notification],
    channels: list[Channel],
    run_id: str | None,
) -> Outcome:
    """Send each notification once per channel, recording each as soon as it went."""
    outcome = Outcome()
    ensure_ledger(con)
    for channel in channels:
        done = sent_keys(con, channel.name, [n.key for n in notifications])
        outcome.already_sent += len(done)
        pending = [n for n in notifications if n.key not in done]
        for index, note in enumerate(pending):
            try:
                channel.send(note.subject, note.text)
            except DeliveryError as exc:
                outcome.failed.append((channel.name, str(exc)))
                outcome.postponed += len(pending) - index - 1
                log.warning(
                    "%s did not take %s %s: %s; retried next run", channel.where, note.kind, note.key, exc
                )
                break
            record_sent(con, note.key, note.kind, channel.name, note.team_id, run_id)
            outcome.sent.append((note.key, channel.name))
    return outcome
