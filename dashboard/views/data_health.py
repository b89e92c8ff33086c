"""Data health: when the marts were published, how fresh each source is, what the gates said."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from dashboard import charts
from dashboard.data import PublishedMarts
from dashboard.model import Chart, Filters, Page, Table, Tile, number
from orchestration.run_record import GateResult, summarise_gates
from orchestration.status import ago, per_source

TITLE = "Data health"
ICON = ":material/health_and_safety:"
URL_PATH = "data-health"


def _age_days(moment, now: datetime) -> float | None:
    if not moment:
        return None
    moment = pd.Timestamp(moment)
    moment = moment.tz_localize(UTC) if moment.tzinfo is None else moment
    return (now - moment.to_pydatetime()).total_seconds() / 86400


def sources_frame(record: dict, now: datetime) -> pd.DataFrame:
    rows = []
    for entry in per_source(record.get("sources") or []):
        newest = entry["cursor"] or entry["last_load_at"]
        rows.append(
            {
                "source": entry["source"],
                "newest": f"{pd.Timestamp(newest):%Y-%m-%d %H:%M} UTC" if newest else "—",
                "age_days": _age_days(newest, now),
                "last load": f"{pd.Timestamp(entry['last_load_at']):%Y-%m-%d %H:%M} UTC"
                if entry["last_load_at"]
                else "—",
                "streams": entry["streams"],
                "rows (last load)": entry["rows"],
                "rejected": entry["rejected"],
            }
        )
    return pd.DataFrame(rows)


def gates_frame(gates: list[GateResult]) -> pd.DataFrame:
    order = {"failed": 0, "warned": 1, "passed": 2}
    rows = [
        {
            "outcome": g.outcome,
            "kind": "dbt test" if g.kind == "dbt_test" else "gate",
            "asset": g.asset,
            "check": g.check,
            "what it said": g.description,
        }
        for g in sorted(gates, key=lambda g: (order[g.outcome], g.kind != "gate", g.asset, g.check))
    ]
    return pd.DataFrame(rows, columns=["outcome", "kind", "asset", "check", "what it said"])


def build(marts: PublishedMarts, filters: Filters) -> Page:
    now = datetime.now(UTC)
    record = marts.run_record() or {}
    gates = [GateResult(**g) for g in record.get("gates", [])]
    counts = summarise_gates(gates)
    passed = sum(c["passed"] for c in counts.values())
    failed = sum(c["failed"] for c in counts.values())
    warned = sum(c["warned"] for c in counts.values())
    published_at = marts.published_at
    page = Page(
        title="Data health",
        intro=f"The published marts at {marts.where}: when they were published, how fresh each source "
        "was, and what every gate of the run that published them said. (Team and period filters do "
        "not apply here.)",
    )
    page.tiles = [
        Tile(
            f"Published {published_at:%d %b %Y}",
            f"{published_at:%H:%M} UTC",
            help=f"{published_at:%Y-%m-%d %H:%M} UTC ({ago(published_at.isoformat())}), by the run whose "
            "gates are listed below.",
        ),
        Tile("Gates passed", number(passed), help="Raw-layer gates and dbt tests of the publishing run."),
        Tile("Gates failed", number(failed), delta_color="inverse"),
        Tile("Warnings", number(warned), help="dbt tests of severity warn: they inform, never block."),
        Tile("Marts", number(len(record.get("published_rows") or {}) or None)),
    ]
    if not record:
        page.notes.append(
            "The run that published these marts left no record beside them (published by an older "
            "version): sources and gates are unknown until the next run."
        )
    sources = sources_frame(record, now)
    page.charts = [Chart("source_freshness", charts.source_freshness(sources), wide=True)]
    if not sources.empty:
        page.tables.append(Table("Sources", sources.drop(columns=["age_days"])))
    page.tables.append(
        Table(
            f"Gates of run {record.get('run_id', '?')[:8]} ({record.get('trigger', '?')}, finished "
            f"{record.get('finished_at', '?')})",
            gates_frame(gates),
        )
    )
    rows = record.get("published_rows") or {}
    if rows:
        page.tables.append(
            Table("Rows per mart", pd.DataFrame({"mart": list(rows), "rows": list(rows.values())}))
        )
    return page
