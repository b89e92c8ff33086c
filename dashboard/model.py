"""What a page shows, apart from how: tiles, charts and tables, plus the team and period filters.

Streamlit (`app.py`) and the HTML report (`report.py`) both render these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
import plotly.graph_objects as go

from dashboard.data import ORG, PublishedMarts
from orchestration.scorecard import STATUS_TEXT

ORG_LABEL = "Organisation (all teams)"
DEFAULT_MONTHS = 12


@dataclass(frozen=True)
class Filters:
    team_id: str  # a team, or ORG for the whole organisation
    team_label: str
    start: date  # first month shown (its first day)
    end: date  # last month shown (its first day); the scorecard's month

    @property
    def is_org(self) -> bool:
        return self.team_id == ORG

    @property
    def until(self) -> date:
        """The first day after the period."""
        return add_months(self.end, 1)

    @property
    def period_label(self) -> str:
        if self.start == self.end:
            return f"{self.end:%B %Y}"
        return f"{self.start:%b %Y} – {self.end:%b %Y}"


@dataclass
class Tile:
    label: str
    value: str
    delta: str | None = None  # the change since the previous period, signed
    delta_color: str = "normal"  # normal: up is good; inverse: down is good; off: neither
    help: str | None = None
    beside: str | None = None  # the organisation's value, shown under the team's
    trend: list[float] | None = None  # the months before, as a sparkline in the dashboard
    status: str | None = None  # on_target, at_risk, off_target or no_data (marts.kpi_status)
    target: str | None = None  # `Target ≥ 80 % · week of 2026-11-23`: the target and the period judged

    @property
    def status_text(self) -> str | None:
        return STATUS_TEXT[self.status] if self.status else None


@dataclass
class Chart:
    key: str  # stable name: tests and the report find a chart by it
    figure: go.Figure
    wide: bool = False


@dataclass
class Table:
    title: str
    frame: pd.DataFrame
    empty: str | None = None  # said instead of an empty table
    static: bool = False  # a short table shown whole (st.table), not a scrolling grid


@dataclass
class Page:
    title: str
    intro: str
    tiles: list[Tile] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def available_months(marts: PublishedMarts) -> list[date]:
    frame = marts.frame("select distinct month_start from team_scorecard_monthly order by 1")
    return [pd.Timestamp(m).date() for m in frame["month_start"]]


def teams(marts: PublishedMarts) -> dict[str, str]:
    """team_id → name, the organisation first."""
    frame = marts.frame("select team_id, team_name from dim_teams order by team_name")
    return {ORG: ORG_LABEL, **dict(zip(frame["team_id"], frame["team_name"], strict=True))}


def default_end(marts: PublishedMarts, months: list[date]) -> date:
    """The newest complete month: a month under way is chosen on purpose, never by default."""
    if "is_complete" in marts.columns("team_scorecard_monthly"):
        frame = marts.frame("select max(month_start) as m from team_scorecard_monthly where is_complete")
        if pd.notna(frame["m"].iloc[0]):
            return pd.Timestamp(frame["m"].iloc[0]).date()
    return months[-2] if len(months) > 1 else months[-1]


_MONTH = r"(\d{4})-(\d{2})"


def parse_period(text: str | None, months: list[date], default: date) -> tuple[date, date]:
    """`2026-11` (that month and the eleven before it) or `2026-06..2026-11`; None: the default."""
    if not text:
        end = default
        return max(add_months(end, 1 - DEFAULT_MONTHS), months[0]), end
    match = re.fullmatch(rf"{_MONTH}(?:\.\.{_MONTH})?", text.strip())
    if not match:
        raise ValueError(f"period {text!r}: expected YYYY-MM or YYYY-MM..YYYY-MM")
    first = date(int(match[1]), int(match[2]), 1)
    if match[3]:
        start, end = first, date(int(match[3]), int(match[4]), 1)
    else:
        start, end = max(add_months(first, 1 - DEFAULT_MONTHS), months[0]), first
    if start > end:
        raise ValueError(f"period {text!r}: the start is after the end")
    if end not in months:
        raise ValueError(
            f"period {text!r}: the marts hold months {months[0]:%Y-%m} to {months[-1]:%Y-%m} only"
        )
    return start, end


# -- formats: durations in days, rates in per cent ------------------------------------


def days(value: float | None) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:.1f} d"


def percent(value: float | None) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:.0%}"


def number(value: float | None, digits: int = 0) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:,.{digits}f}"


def signed(value: float | None, fmt: str) -> str | None:
    """A change as st.metric and the report show it: `+3`, `-0.5 d`, `+4 pts`."""
    if value is None or pd.isna(value):
        return None
    return fmt.format(value).replace("+-", "-") if value < 0 else "+" + fmt.format(value)
