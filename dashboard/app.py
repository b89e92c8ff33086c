"""The Streamlit app behind `productops dashboard`: the team and period filters, then the chosen page.

Run through `productops dashboard`: it reads the published marts the settings name (the
PRODUCTOPS_PUBLISHED file, or schema published on PRODUCTOPS_POSTGRES_URL with engine postgres).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard.data import ORG, NotPublished, PublishedMarts
from dashboard.model import Filters, Page, available_months, default_end, parse_period, teams
from dashboard.views import PAGES
from ingestion.config import ConfigError, Secret, load_settings

TILES_PER_ROW = 5
# The report's look (charts.TEMPLATE), not Streamlit's theme; no toolbar over the titles.
PLOTLY_CONFIG = {"displaylogo": False, "displayModeBar": False}
# A target's status: colour, and an icon and the word, so colour is never all it says.
STATUS_BADGES = {
    "on_target": ("green", ":material/check_circle:"),
    "at_risk": ("orange", ":material/warning:"),
    "off_target": ("red", ":material/cancel:"),
    "no_data": ("gray", ":material/help:"),
}


@st.cache_data(max_entries=512, show_spinner=False)
def _frame(path: str, url: str | None, version: tuple, sql: str, params: tuple) -> pd.DataFrame:
    return PublishedMarts(Path(path), Secret(url) if url else None).frame(sql, list(params))


class CachedMarts(PublishedMarts):
    """Queries cached per published version: a new publish changes the version and the answers."""

    def frame(self, sql: str, params: list | None = None) -> pd.DataFrame:
        self.check()
        url = self.postgres_url.value if self.postgres_url else None
        return _frame(str(self.path), url, self.version, sql, tuple(params or ())).copy()


def sidebar(marts: PublishedMarts) -> Filters:
    names = teams(marts)
    months = available_months(marts)
    start, end = parse_period(st.query_params.get("period"), months, default_end(marts, months))
    default_team = st.query_params.get("team") or next(t for t in names if t != ORG)
    st.sidebar.header("Filters")
    team = st.sidebar.selectbox(
        "Team",
        list(names),
        format_func=names.get,
        key="team",
        index=list(names).index(default_team) if default_team in names else 0,
    )
    start, end = st.sidebar.select_slider(
        "Period (months)",
        options=months,
        value=(start, end),
        key="period",
        format_func=lambda m: f"{m:%b %Y}",
        help="The scorecard shows the last month of the period; the other pages the whole period.",
    )
    st.query_params.update(team=team, period=f"{start:%Y-%m}..{end:%Y-%m}")
    return Filters(team, names[team], start, end)


def show(page: Page) -> None:
    st.title(page.title)
    st.caption(page.intro)
    for note in page.notes:
        st.warning(note, icon=":material/info:")
    for first in range(0, len(page.tiles), TILES_PER_ROW):
        row = page.tiles[first : first + TILES_PER_ROW]
        for column, tile in zip(st.columns(TILES_PER_ROW), row, strict=False):
            with column:
                st.metric(
                    tile.label,
                    tile.value,
                    tile.delta,
                    tile.delta_color,
                    help=tile.help,
                    border=True,
                    chart_data=tile.trend,
                    chart_type="line",
                )
                if tile.beside:
                    st.caption(tile.beside)
                if tile.status:
                    color, icon = STATUS_BADGES[tile.status]
                    st.badge(tile.status_text.capitalize(), icon=icon, color=color, help=tile.target)
                    st.caption(tile.target)
    pending = []
    for chart in page.charts:
        if chart.wide:
            st.plotly_chart(chart.figure, key=chart.key, config=PLOTLY_CONFIG, theme=None)
            continue
        pending.append(chart)
        if len(pending) == 2:
            for column, half in zip(st.columns(2), pending, strict=True):
                with column:
                    st.plotly_chart(half.figure, key=half.key, config=PLOTLY_CONFIG, theme=None)
            pending = []
    for chart in pending:
        st.plotly_chart(chart.figure, key=chart.key, config=PLOTLY_CONFIG, theme=None)
    for table in page.tables:
        st.subheader(table.title)
        if table.frame.empty and table.empty:
            st.caption(table.empty)
        elif table.static:
            st.table(table.frame, hide_index=True)
        else:
            st.dataframe(table.frame, hide_index=True)


def _runner(module, marts: PublishedMarts, filters: Filters):
    def run() -> None:
        show(module.build(marts, filters))

    run.__name__ = module.URL_PATH.replace("-", "_")
    return run


def main() -> None:
    st.set_page_config(page_title="Product Ops", page_icon=":material/insights:", layout="wide")
    try:
        marts = CachedMarts.of(load_settings())
        marts.check()
        filters = sidebar(marts)
    except (NotPublished, ConfigError) as exc:
        st.error(str(exc))
        st.stop()
    st.sidebar.caption(
        f"Reading {marts.where} (read-only), published {marts.published_at:%Y-%m-%d %H:%M} UTC."
    )
    pages = [
        st.Page(_runner(m, marts, filters), title=m.TITLE, icon=m.ICON, url_path=m.URL_PATH, default=i == 0)
        for i, m in enumerate(PAGES)
    ]
    st.navigation(pages, position="top").run()


main()
