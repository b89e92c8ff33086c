"""Scorecard: one team and one month at a glance, each area's headline KPI beside the organisation's."""

from __future__ import annotations

import pandas as pd

from dashboard import charts
from dashboard.data import ORG, PublishedMarts
from dashboard.model import Chart, Filters, Page, Table, Tile, add_months, days, number, percent, signed
from orchestration.scorecard import (
    LATEST_STATUSES,
    OPEN_ALERTS,
    STATUS_TEXT,
    kpi_unit,
    period_name,
    target_text,
)

TITLE = "Scorecard"
ICON = ":material/speed:"
URL_PATH = "scorecard"

HOURS_PER_DAY = 24

# How each kind of KPI reads: its value, and its change since the previous month.
KINDS = {
    "count": (number, lambda c: signed(c, "{:,.0f}")),
    "days": (days, lambda c: signed(c, "{:.1f} d")),
    "rate": (percent, lambda c: signed(None if c is None else c * 100, "{:.0f} pts")),
    "score": (lambda v: number(v, 1), lambda c: signed(c, "{:.1f}")),
    "enps": (lambda v: number(v, 0), lambda c: signed(c, "{:.0f}")),
}
# (column, label, kind, direction: normal when higher is better, inverse when lower is, help)
KPIS = (
    ("throughput", "Throughput", "count", "normal", "Items finished in the month (not canceled)."),
    (
        "cycle_time_p50_days",
        "Cycle time p50",
        "days",
        "inverse",
        "Median days from start to done of the month's finished items.",
    ),
    (
        "lead_time_p50_days",
        "Lead time p50",
        "days",
        "inverse",
        "Median days from creation to done of the month's finished items.",
    ),
    (
        "on_time_rate",
        "On time",
        "rate",
        "normal",
        "Share of the month's items with a due date finished on or before it.",
    ),
    (
        "planning_accuracy",
        "Planning accuracy",
        "rate",
        "normal",
        "Committed sprint items done by the sprint's end, over the month's closed sprints.",
    ),
    (
        "adoption_rate",
        "Tool adoption",
        "rate",
        "normal",
        "Share of the team active in the rolled-out tools (monthly).",
    ),
    ("stickiness", "Stickiness", "rate", "normal", "Average daily / monthly active users."),
    (
        "satisfaction_score",
        "Satisfaction",
        "score",
        "normal",
        "Survey satisfaction (0–100) of the latest wave that was not suppressed.",
    ),
    ("enps", "eNPS", "enps", "normal", "% promoters − % detractors (−100 to 100) of that wave."),
    ("response_rate", "Response rate", "rate", "normal", "Respondents / headcount of that wave."),
    (
        "completion_rate",
        "Action completion",
        "rate",
        "normal",
        "Improvement actions closed / opened in the month.",
    ),
    (
        "open_action_age_p50_days",
        "Open action age p50",
        "days",
        "inverse",
        "Median age of the improvement actions still open at the month's end.",
    ),
)
# The tiles judged against a target in marts.kpi_status (same KPI, its own period).
TARGET_KPIS = {"throughput", "on_time_rate", "satisfaction_score", "enps", "response_rate", "completion_rate"}
# kpi_unit's units as the dashboard writes them.
UNIT_FORMATS = {"share": percent, "days": days, "count": number, "score": lambda v: number(v, 1)}
TREND_KPIS = (
    ("throughput", "Throughput (items)", None),
    ("cycle_time_p50_days", "Cycle time p50 (days)", ".1f"),
    ("on_time_rate", "On-time rate", ".0%"),
    ("adoption_rate", "Tool adoption", ".0%"),
    ("satisfaction_score", "Satisfaction (0–100)", ".1f"),
    ("completion_rate", "Action completion rate", ".0%"),
)


def load(marts: PublishedMarts, filters: Filters) -> pd.DataFrame:
    """The team's and the organisation's months of the period, durations in days."""
    frame = marts.frame(
        """
        select *,
            cycle_time_p50_hours / 24 as cycle_time_p50_days,
            cycle_time_p50_hours_change / 24 as cycle_time_p50_days_change,
            lead_time_p50_hours / 24 as lead_time_p50_days,
            lead_time_p50_hours_change / 24 as lead_time_p50_days_change,
            case when team_id = ? then 'org' else 'team' end as who
        from team_scorecard_monthly
        where team_id in (?, ?) and month_start >= ? and month_start < ?
        order by month_start
        """,
        [ORG, filters.team_id, ORG, add_months(filters.start, -1), filters.until],
    )
    frame["month_start"] = pd.to_datetime(frame["month_start"])
    return frame


def statuses(marts: PublishedMarts, filters: Filters) -> pd.DataFrame:
    """Each KPI's latest period begun by the month's end, from marts.kpi_status (none without it)."""
    if not marts.has("kpi_status"):
        return pd.DataFrame(columns=["kpi"])
    return marts.frame(LATEST_STATUSES, [filters.team_id, filters.until])


def alerts(marts: PublishedMarts, filters: Filters) -> pd.DataFrame:
    """The open alerts (marts.kpi_alerts) of the team, or of every team for the organisation."""
    if not marts.has("kpi_alerts"):
        return pd.DataFrame(columns=["kpi"])
    return marts.frame(OPEN_ALERTS, [filters.team_id, filters.team_id])


def _judged(row: dict, fmt) -> str:
    return f"Target {target_text(row['direction'], fmt(row['target']))} · {period_name(row)}" + (
        "" if row["is_complete"] else " (partial)"
    )


def targets_table(judged: pd.DataFrame) -> Table:
    rows = []
    for row in judged.to_dict("records"):
        fmt = UNIT_FORMATS[kpi_unit(row["kpi"])]
        rows.append(
            {
                "KPI": row["kpi"],
                "period": period_name(row) + ("" if row["is_complete"] else " (partial)"),
                "value": fmt(row["value"]),
                "target": target_text(row["direction"], fmt(row["target"])),
                "status": STATUS_TEXT[row["status"]],
                "items": row["sample_size"],
                "trend": row["trend"],
            }
        )
    return Table("Targets", pd.DataFrame(rows), empty="No KPI with a target.", static=True)


def alerts_table(open_now: pd.DataFrame, filters: Filters) -> Table:
    rows = []
    for row in open_now.to_dict("records"):
        fmt = UNIT_FORMATS[kpi_unit(row["kpi"])]
        rows.append(
            {
                **({"team": row["team_id"]} if filters.is_org else {}),
                "KPI": row["kpi"],
                "rule": row["rule"],
                "period": period_name(row),
                "value": fmt(row["value"]),
                "baseline": fmt(row["baseline"]),
                "items": row["sample_size"],
            }
        )
    return Table(f"Open alerts ({len(rows)})", pd.DataFrame(rows), empty="No open alerts.", static=True)


def tiles(frame: pd.DataFrame, filters: Filters, judged: pd.DataFrame | None = None) -> list[Tile]:
    month = pd.Timestamp(filters.end)
    own = "org" if filters.is_org else "team"
    team = frame[(frame["who"] == own) & (frame["month_start"] == month)]
    org = frame[(frame["who"] == "org") & (frame["month_start"] == month)]
    by_kpi = {} if judged is None else {row["kpi"]: row for row in judged.to_dict("records")}
    result = []
    for column, label, kind, direction, help_text in KPIS:
        fmt, change_fmt = KINDS[kind]
        value = team[column].iloc[0] if not team.empty else None
        change = team[f"{column}_change"].iloc[0] if not team.empty else None
        beside = None
        org_value = org[column].iloc[0] if not org.empty and column in org else None
        if not filters.is_org and org_value is not None and pd.notna(org_value):
            beside = f"Organisation: {fmt(org_value)}"
        if change is not None and pd.notna(change) and change == 0:
            direction = "off"  # no change: no green or red arrow
        trend = frame[frame["who"] == own][column].dropna().tolist() if column in frame else []
        tile = Tile(label, fmt(value), change_fmt(change), direction, help_text, beside, trend or None)
        status = by_kpi.get(column) if column in TARGET_KPIS else None
        if status is not None:
            tile.status, tile.target = status["status"], _judged(status, fmt)
        result.append(tile)
    return result


def build(marts: PublishedMarts, filters: Filters) -> Page:
    frame = load(marts, filters)
    page = Page(
        title=f"{filters.team_label} · {filters.end:%B %Y}",
        intro="The headline KPI of each area for the month, its change since the month before "
        "(arrow: green is better, red is worse) and the organisation's figure beside it. A KPI with "
        "a target shows its status in its latest period begun by the month's end (week, survey wave "
        "or month); the team's open alerts and every target follow the chart.",
    )
    current = frame[frame["month_start"] == pd.Timestamp(filters.end)]
    if current.empty:
        page.notes.append(f"No scorecard row for {filters.team_label} in {filters.end:%B %Y}.")
    elif "is_complete" in current and not current["is_complete"].astype(bool).all():
        page.notes.append(f"{filters.end:%B %Y} is still under way: its figures are partial.")
    judged = statuses(marts, filters)
    page.tiles = tiles(frame, filters, judged)
    shown = frame[frame["month_start"] >= pd.Timestamp(filters.start)]
    page.charts.append(
        Chart("kpi_trends", charts.kpi_trends(shown, TREND_KPIS, filters.team_label), wide=True)
    )
    page.tables += [alerts_table(alerts(marts, filters), filters), targets_table(judged)]
    return page
