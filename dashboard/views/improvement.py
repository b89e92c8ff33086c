"""Improvement: retro actions opened and closed, completion rate, and how old the open ones are."""

from __future__ import annotations

import pandas as pd

from dashboard import charts
from dashboard.data import PublishedMarts
from dashboard.model import Chart, Filters, Page, Table, Tile, days, number, percent

TITLE = "Improvement"
ICON = ":material/trending_up:"
URL_PATH = "improvement"
OLDEST = 10


def monthly(marts: PublishedMarts, filters: Filters) -> pd.DataFrame:
    frame = marts.frame(
        "select * from improvement_monthly where team_id = ? and month_start >= ? and month_start < ? "
        "order by month_start",
        [filters.team_id, filters.start, filters.until],
    )
    frame["month_start"] = pd.to_datetime(frame["month_start"])
    return frame


def open_actions(marts: PublishedMarts, filters: Filters) -> pd.DataFrame:
    clause, params = ("", []) if filters.is_org else (" and team_id = ?", [filters.team_id])
    return marts.frame(
        "select work_item_key, coalesce(title, '') as title, team_id, opened_at, open_age_days "
        f"from fct_improvement_actions where open_age_days is not null{clause} order by open_age_days desc",
        params,
    )


def build(marts: PublishedMarts, filters: Filters) -> Page:
    months = monthly(marts, filters)
    still_open = open_actions(marts, filters)
    page = Page(
        title=f"Improvement · {filters.team_label}",
        intro=f"Retrospective and improvement actions, {filters.period_label}: are they done, and how "
        "long do the open ones wait?",
    )
    complete = months[months["is_complete"].astype(bool)] if "is_complete" in months else months
    complete = complete[complete["completion_rate"].notna()]  # a month with nothing opened has no rate
    last = complete.iloc[-1] if not complete.empty else None
    page.tiles = [
        Tile(
            "Opened",
            number(months["actions_opened"].sum() if not months.empty else None),
            help="Actions opened over the period.",
        ),
        Tile(
            "Closed",
            number(months["actions_closed"].sum() if not months.empty else None),
            help="Actions closed over the period.",
        ),
        Tile(
            "Completion rate",
            percent(last["completion_rate"] if last is not None else None),
            help="Closed / opened in the newest complete month that opened any"
            + (f" ({last['month_start']:%B %Y})." if last is not None else "."),
        ),
        Tile("Open now", number(len(still_open)), help="Actions open today."),
        Tile(
            "Median age of open",
            days(still_open["open_age_days"].median() if len(still_open) else None),
            help="Median days the actions open today have been open.",
        ),
    ]
    page.charts = [
        Chart("improvement_flow", charts.improvement_flow(months)),
        Chart("open_action_age", charts.open_action_age(still_open)),
    ]
    oldest = still_open.head(OLDEST).rename(
        columns={
            "work_item_key": "action",
            "team_id": "team",
            "opened_at": "opened",
            "open_age_days": "days open",
        }
    )
    if not oldest.empty:
        oldest["days open"] = oldest["days open"].round(0).astype(int)
        oldest["opened"] = pd.to_datetime(oldest["opened"]).dt.strftime("%Y-%m-%d")
        page.tables.append(Table(f"The {len(oldest)} oldest open actions", oldest))
    return page
