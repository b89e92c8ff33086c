"""Adoption: who uses the rolled-out tools, week by week; stickiness; time to 50 % adoption."""

from __future__ import annotations

import pandas as pd

from dashboard import charts
from dashboard.data import PublishedMarts
from dashboard.model import Chart, Filters, Page, Tile, days, percent

TITLE = "Adoption"
ICON = ":material/group_add:"
URL_PATH = "adoption"


def _trend(marts: PublishedMarts, filters: Filters, table: str, period: str) -> pd.DataFrame:
    """Rows of a team × tool × period mart, with the team's name; every team for the organisation."""
    clause, params = ("", []) if filters.is_org else (" and a.team_id = ?", [filters.team_id])
    frame = marts.frame(
        f"select a.*, a.{period} as period_start, coalesce(t.team_name, a.team_id) as team_label "
        f"from {table} as a left join dim_teams as t on a.team_id = t.team_id "
        f"where a.is_rolled_out and a.{period} >= ? and a.{period} < ?{clause} order by a.{period}",
        [filters.start, filters.until, *params],
    )
    frame["period_start"] = pd.to_datetime(frame["period_start"])
    return frame


def time_to_adoption(marts: PublishedMarts, filters: Filters) -> pd.DataFrame:
    if filters.is_org:
        return marts.frame("select * from tool_adoption order by tool_name")
    return marts.frame(
        "select a.*, d.tool_name from tool_adoption_by_team as a join dim_tools as d using (tool_id) "
        "where a.team_id = ? order by d.tool_name",
        [filters.team_id],
    )


def build(marts: PublishedMarts, filters: Filters) -> Page:
    tools = marts.frame("select tool_id, tool_name, rollout_date from dim_tools order by rollout_date")
    weekly = _trend(marts, filters, "adoption_weekly", "week_start")
    monthly = _trend(marts, filters, "adoption_monthly", "month_start")
    reached = time_to_adoption(marts, filters)
    page = Page(
        title=f"Adoption · {filters.team_label}",
        intro=f"Share of people active in each rolled-out tool for {filters.period_label} "
        "(the dashed line is the rollout), how sticky daily use is, and how long each tool took "
        "to reach half of the people.",
    )
    page.tiles = [
        Tile(
            row.tool_name,
            percent(row.latest_adoption_rate),
            help="Adoption in the newest week; 50 % reached "
            + (f"{days(row.days_to_adoption)} after rollout." if row.has_reached_adoption else "not yet."),
        )
        for row in reached.itertuples()
    ]
    page.charts = [
        Chart(
            "adoption_rate",
            charts.tool_trend(weekly, "adoption_rate", "Weekly adoption rate per tool", tools, 7),
            wide=True,
        ),
        Chart(
            "stickiness",
            charts.tool_trend(monthly, "stickiness", "Stickiness (daily / monthly active)", tools, 30),
            wide=True,
        ),
        Chart("time_to_adoption", charts.time_to_adoption(reached), wide=True),
    ]
    return page
