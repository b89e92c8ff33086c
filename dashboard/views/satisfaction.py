"""Satisfaction: score, eNPS and response rate per survey wave and team, small groups hidden."""

from __future__ import annotations

import pandas as pd

from dashboard import charts
from dashboard.data import ORG, PublishedMarts
from dashboard.model import ORG_LABEL, Chart, Filters, Page, Tile, number, percent
from ingestion.config import ConfigError, Settings, load_settings

TITLE = "Satisfaction"
ICON = ":material/sentiment_satisfied:"
URL_PATH = "satisfaction"


def waves(marts: PublishedMarts, filters: Filters) -> pd.DataFrame:
    """The period's waves: the team's and the organisation's rows (every team's for the organisation)."""
    clause, params = ("", []) if filters.is_org else (" and s.team_id in (?, ?)", [filters.team_id, ORG])
    frame = marts.frame(
        "select s.*, s.team_id = ? as is_org, "
        "case when s.team_id = ? then ? else coalesce(t.team_name, s.team_id) end as team_label "
        "from satisfaction_by_wave as s left join dim_teams as t on s.team_id = t.team_id "
        f"where s.wave_date >= ? and s.wave_date < ?{clause} order by s.wave_date",
        [ORG, ORG, ORG_LABEL, filters.start, filters.until, *params],
    )
    return frame


def anonymity_threshold() -> int:
    """The pipeline's setting ([pipeline] anonymity_threshold), which suppressed the small groups."""
    try:
        return load_settings().anonymity_threshold
    except ConfigError:
        return Settings.anonymity_threshold


def build(marts: PublishedMarts, filters: Filters) -> Page:
    frame = waves(marts, filters)
    k = anonymity_threshold()
    page = Page(
        title=f"Satisfaction · {filters.team_label}",
        intro=f"Survey waves of {filters.period_label}. A team-wave with fewer than {k} respondents is "
        "hidden to keep answers anonymous; the organisation's figure is computed after that.",
    )
    mine = frame[frame["team_id"] == filters.team_id]
    if not mine.empty:
        latest = mine.iloc[-1]
        hidden = bool(latest["is_suppressed"])
        shown = (lambda text: f"hidden: fewer than {k} respondents") if hidden else (lambda text: text)
        wave = f"Wave {latest['survey_wave']}."
        page.tiles = [
            Tile("Satisfaction (0–100)", shown(number(latest["satisfaction_score"], 1)), help=wave),
            Tile("eNPS", shown(number(latest["enps"])), help=wave + " % promoters − % detractors."),
            Tile("Response rate", percent(latest["response_rate"]), help=wave + " Respondents / headcount."),
            Tile("Respondents", shown(number(latest["respondents"])), help=wave),
        ]
    else:
        page.notes.append(f"No survey wave for {filters.team_label} in {filters.period_label}.")
    page.charts = [
        Chart(
            "satisfaction_score",
            charts.survey_heatmap(
                frame, "satisfaction_score", "Satisfaction score (0–100)", ".1f", k, (40, 90), "RdYlGn"
            ),
            wide=True,
        ),
        Chart(
            "enps",
            charts.survey_heatmap(frame, "enps", "eNPS (−100 to 100)", "+.0f", k, (-60, 60), "RdYlGn"),
            wide=True,
        ),
        Chart(
            "response_rate",
            charts.survey_heatmap(frame, "response_rate", "Response rate", ".0%", k, (0, 1), "Blues"),
            wide=True,
        ),
    ]
    return page
