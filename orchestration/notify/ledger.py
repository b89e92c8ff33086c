"""`ops.notifications_sent`: what was sent, so nothing is sent twice.

The pipeline writes it (not dbt) in its own warehouse, outside the marts: one
row per notification and channel, recorded right after the channel took it.
It holds keys, channel kinds and times, never a URL, an address or a password.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from orchestration.run_record import now_iso

DDL = """
create schema if not exists ops;
create table if not exists ops.notifications_sent (
    notification_key varchar not null,  -- alert_id, or digest:<team>:<ISO week>
    kind varchar not null,              -- alert | digest
    channel varchar not null,           -- webhook | email
    team_id varchar,
    sent_at timestamp with time zone not null,
    run_id varchar,
    primary key (notification_key, channel)
);
"""


def ensure_ledger(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def sent_keys(con: duckdb.DuckDBPyConnection, channel: str, keys: Iterable[str]) -> set[str]:
    keys = list(keys)
    if not keys:
        return set()
    rows = con.execute(
        "select notification_key from ops.notifications_sent "
        "where channel = ? and list_contains(?, notification_key)",
        [channel, keys],
    ).fetchall()
    return {row[0] for row in rows}


def record_sent(
    con: duckdb.DuckDBPyConnection, key: str, kind: str, channel: str, team_id: str | None, run_id: str | None
) -> None:
    con.execute(
        "insert into ops.notifications_sent values (?, ?, ?, ?, cast(? as timestamp with time zone), ?) "
        "on conflict do nothing",
        [key, kind, channel, team_id, now_iso(), run_id],
    )
