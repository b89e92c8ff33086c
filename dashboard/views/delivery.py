"""Delivery: cycle time, throughput, WIP and the age of open items, on-time delivery, sprints."""

from __future__ import annotations

import pandas as pd

from dashboard import charts
from dashboard.data import PublishedMarts
from dashboard.model import Chart, Filters, Page, Tile, days, number, percent

TITLE = "Delivery"
ICON = ":material/local_shipping:"
URL_PATH = "delivery"
MAX_SPRINTS = 16
PERCENTILES = (50, 85, 95)  # cycle-time percentiles shown


def _team_clause(filters: Filters, column: str = "team_id") -> tuple[str, list]:
    return ("", []) if filters.is_org else (f" and {column} = ?", [filters.team_id])


def weekly(marts: PublishedMarts, filters: Filters) -> pd.DataFrame:
    frame = marts.frame(
        "select * from delivery_weekly where team_id = ? and week_start >= ? and week_start < ? "
        "order by week_start",
        [filters.team_id, filters.start, filters.until],
    )
    frame["week_start"] = pd.to_datetime(frame["week_start"])
    return frame


def finished_items(marts: PublishedMarts, filters: Filters) -> tuple[pd.DataFrame, dict[int, float | None]]:
    """Items finished in the period with their cycle time in days, and its 50/85/95th percentiles."""
    clause, params = _team_clause(filters)
    where = (
        "status_category = 'done' and not is_canceled and cycle_time_hours is not null "
        f"and resolved_at >= ? and resolved_at < ?{clause}"
    )
    args = [filters.start, filters.until, *params]
    items = marts.frame(
        "select work_item_key, coalesce(title, '') as title, team_id, resolved_at, "
        f"cycle_time_hours / 24.0 as cycle_time_days from fct_work_items where {where} order by resolved_at",
        args,
    )
    # Ordered-set aggregates: the same SQL on DuckDB and PostgreSQL.
    pcts = marts.frame(
        "select "
        + ", ".join(
            f"percentile_cont({p / 100}) within group (order by cycle_time_hours / 24.0) as p{p}"
            for p in PERCENTILES
        )
        + f" from fct_work_items where {where}",
        args,
    ).iloc[0]
    values = [None if pd.isna(pcts[f"p{p}"]) else float(pcts[f"p{p}"]) for p in PERCENTILES]
    return items, dict(zip(PERCENTILES, values, strict=True))


def open_items(marts: PublishedMarts, filters: Filters) -> tuple[pd.DataFrame, dict[int, float | None]]:
    """Open items and their age (marts.wip_aging), and the team's historical cycle-time percentiles."""
    if not marts.has("wip_aging"):
        return pd.DataFrame(), {}
    clause, params = _team_clause(filters, "w.team_id")
    items = marts.frame(
        "select w.*, i.work_item_key, coalesce(i.title, '') as title from wip_aging as w "
        "join fct_work_items as i on w.source = i.source and w.work_item_id = i.work_item_id "
        f"where true{clause} order by w.age_days desc",
        params,
    )
    if filters.is_org or items.empty:
        return items, {}  # each team's items are judged against its own percentiles
    first = items.iloc[0]
    return items, {p: first[f"cycle_time_p{p}_days"] for p in (50, 85, 95)}


def sprints(marts: PublishedMarts, filters: Filters) -> pd.DataFrame:
    clause, params = _team_clause(filters)
    frame = marts.frame(
        "select * from sprint_predictability where is_closed and completed_at >= ? and completed_at < ?"
        f"{clause} order by completed_at desc limit {MAX_SPRINTS}",
        [filters.start, filters.until, *params],
    )
    return frame.iloc[::-1]


def build(marts: PublishedMarts, filters: Filters) -> Page:
    weeks = weekly(marts, filters)
    items, finished_pcts = finished_items(marts, filters)
    wip, team_pcts = open_items(marts, filters)
    closed_sprints = sprints(marts, filters)
    page = Page(
        title=f"Delivery · {filters.team_label}",
        intro=f"Flow of work for {filters.period_label}: how long items take from start to done, "
        "how many finish each week, what is in progress and how old it is.",
    )
    latest = weeks.iloc[-1] if not weeks.empty else None
    in_progress = wip[wip["status_category"] == "in_progress"] if not wip.empty else wip
    due = weeks["due_items"].sum() if not weeks.empty else 0
    page.tiles = [
        Tile(
            "Items finished",
            number(weeks["throughput"].sum() if not weeks.empty else None),
            help="Throughput over the period (canceled items excluded).",
        ),
        Tile(
            "Cycle time p85",
            days(finished_pcts.get(85)),
            help="85 % of the period's finished items took at most this long from start to done.",
        ),
        Tile(
            "In progress now",
            number(latest["wip_end"] if latest is not None else None),
            help="Items in progress at the end of the newest week.",
        ),
        Tile(
            "Older than p85",
            number(
                int(in_progress["is_over_p85"].sum())
                if not in_progress.empty
                else (0 if marts.has("wip_aging") else None)
            ),
            help="Items in progress for longer than their team's 85th-percentile cycle time.",
        ),
        Tile(
            "On time",
            percent(weeks["on_time_items"].sum() / due if due else None),
            help="Items finished by their due date / items due, over the period.",
        ),
    ]
    if marts.has("wip_aging"):
        age_chart = charts.work_item_age(wip, team_pcts)
    else:
        age_chart = charts.empty("Age of open items", "marts.wip_aging is not in this published file yet")
    page.charts = [
        Chart("cycle_time_scatter", charts.cycle_time_scatter(items, finished_pcts), wide=True),
        Chart("throughput_run_chart", charts.throughput_run_chart(weeks)),
        Chart("wip_trend", charts.wip_trend(weeks)),
        Chart("work_item_age", age_chart, wide=True),
        Chart("on_time_trend", charts.on_time_trend(weeks)),
        Chart("sprint_predictability", charts.sprint_predictability(closed_sprints)),
    ]
    return page
