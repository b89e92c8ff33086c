"""`productops scorecard`: one team's month in the terminal, from the published marts.

It reads `marts.team_scorecard_monthly` of the published copy (read-only) and
prints each area's headline KPI one under the other, durations in days, with
the change since the previous month and an arrow. When the marts carry an
organisation roll-up (team `__all__`) it is shown beside the team, and a month
still under way is marked partial.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb

ORGANISATION = "__all__"
SCORECARD = "team_scorecard_monthly"

HIGHER, LOWER = "higher_is_better", "lower_is_better"


@dataclass(frozen=True)
class Kpi:
    column: str
    label: str
    unit: str  # count | days | share | score
    direction: str
    hours_to_days: bool = False


AREAS: tuple[tuple[str, tuple[Kpi, ...]], ...] = (
    (
        "Delivery",
        (
            Kpi("throughput", "Throughput (items finished)", "count", HIGHER),
            Kpi("lead_time_p50_hours", "Lead time, median (days)", "days", LOWER, hours_to_days=True),
            Kpi("cycle_time_p50_hours", "Cycle time, median (days)", "days", LOWER, hours_to_days=True),
            Kpi("on_time_rate", "On-time rate", "share", HIGHER),
            Kpi("planning_accuracy", "Sprint planning accuracy", "share", HIGHER),
        ),
    ),
    (
        "Adoption",
        (
            Kpi("adoption_rate", "Adoption rate", "share", HIGHER),
            Kpi("stickiness", "Stickiness (DAU/MAU)", "share", HIGHER),
        ),
    ),
    (
        "Satisfaction",
        (
            Kpi("response_rate", "Survey response rate", "share", HIGHER),
            Kpi("satisfaction_score", "Satisfaction (0-100)", "score", HIGHER),
            Kpi("enps", "eNPS", "score", HIGHER),
        ),
    ),
    (
        "Improvement",
        (
            Kpi("completion_rate", "Action completion rate", "share", HIGHER),
            Kpi("open_actions_end", "Open actions at month end", "count", LOWER),
            Kpi("open_action_age_p50_days", "Open action age, median (days)", "days", LOWER),
        ),
    ),
)


class ScorecardError(ValueError):
    """An unknown team or month; the message lists the valid ones."""


@dataclass
class Scorecard:
    team_id: str
    team_name: str
    month: date
    is_complete: bool
    team: dict[str, Any]
    organisation: dict[str, Any] | None


def _month(text: str) -> date:
    found = re.fullmatch(r"(\d{4})-(\d{2})(?:-01)?", text.strip())
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise ScorecardError(f"--month {text!r} is not a month: write YYYY-MM, e.g. 2026-10")
    return date(int(found.group(1)), int(found.group(2)), 1)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _team(con: duckdb.DuckDBPyConnection, wanted: str) -> tuple[str, str]:
    teams = con.execute(
        f"select team_id, team_name from marts.dim_teams where team_id <> '{ORGANISATION}' order by team_id"
    ).fetchall()
    for team_id, team_name in teams:
        if wanted.strip().lower() in (team_id.lower(), str(team_name or "").lower()):
            return team_id, team_name or team_id
    valid = ", ".join(team_id for team_id, _ in teams)
    raise ScorecardError(f"unknown team {wanted!r}; teams: {valid}")


def _complete(row: dict[str, Any], today: date) -> bool:
    """The marts' own `is_complete` where they have it; otherwise the month has ended."""
    if row.get("is_complete") is not None:
        return bool(row["is_complete"])
    month = row["month_start"]
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return following <= today


def load_scorecard(
    con: duckdb.DuckDBPyConnection, team: str, month: str | None, today: date | None = None
) -> Scorecard:
    today = today or date.today()
    team_id, team_name = _team(con, team)
    rows = _rows(con, f"from marts.{SCORECARD} where team_id = ? order by month_start", [team_id])
    if not rows:
        raise ScorecardError(f"team {team_id!r} has no months in marts.{SCORECARD} yet")
    if month is None:
        complete = [row for row in rows if _complete(row, today)]
        chosen = (complete or rows)[-1]
    else:
        wanted = _month(month)
        chosen = next((row for row in rows if row["month_start"] == wanted), None)
        if chosen is None:
            first, last = rows[0]["month_start"], rows[-1]["month_start"]
            raise ScorecardError(
                f"no scorecard for {team_id} in {wanted:%Y-%m}; "
                f"months available: {first:%Y-%m} to {last:%Y-%m}"
            )
    organisation = _rows(
        con,
        f"from marts.{SCORECARD} where team_id = ? and month_start = ?",
        [ORGANISATION, chosen["month_start"]],
    )
    return Scorecard(
        team_id=team_id,
        team_name=team_name,
        month=chosen["month_start"],
        is_complete=_complete(chosen, today),
        team=chosen,
        organisation=organisation[0] if organisation else None,
    )


# -- rendering ------------------------------------------------------------------------


def _scaled(kpi: Kpi, value: Any) -> float | None:
    if value is None:
        return None
    return float(value) / 24 if kpi.hours_to_days else float(value)


def _value(kpi: Kpi, value: float | None) -> str:
    if value is None:
        return "—"
    if kpi.unit == "share":
        return f"{value * 100:.0f} %"
    if kpi.unit == "count":
        return f"{value:,.0f}"
    return f"{value:.1f}"


def _change(kpi: Kpi, change: float | None) -> str:
    """`↑ 2.5 better`: the arrow gives the direction, the word whether that is good."""
    if change is None:
        return ""
    if kpi.unit == "share":
        size, unit = abs(change) * 100, " pts"
    else:
        size, unit = abs(change), ""
    shown = f"{size:,.0f}" if kpi.unit == "count" else f"{size:.1f}"
    if float(shown.replace(",", "")) == 0:
        return "→ no change"
    rising = change > 0
    better = rising == (kpi.direction == HIGHER)
    return f"{'↑' if rising else '↓'} {shown}{unit} {'better' if better else 'worse'}"


def render_scorecard(card: Scorecard) -> str:
    month = f"{card.month:%B %Y}"
    state = "complete month" if card.is_complete else "PARTIAL: month under way, numbers so far"
    previous = date(card.month.year - (card.month.month == 1), (card.month.month - 2) % 12 + 1, 1)
    lines = [
        f"Scorecard: {card.team_name} ({card.team_id}), {month} ({state})",
        f"Change since {previous:%B %Y}. Source: published marts.{SCORECARD}.",
        "",
    ]
    label_width = max(len(kpi.label) for _, kpis in AREAS for kpi in kpis) + 2
    header = f"  {'':<{label_width}}{card.team_id:>12}   {'change':<22}"
    if card.organisation is not None:
        header += f"{'organisation':>12}"
    lines.append(header.rstrip())
    for area, kpis in AREAS:
        title = area
        if area == "Satisfaction" and card.team.get("survey_wave"):
            title += f" (survey wave {card.team['survey_wave']})"
        lines.append(title)
        for kpi in kpis:
            value = _scaled(kpi, card.team.get(kpi.column))
            change = _scaled(kpi, card.team.get(f"{kpi.column}_change"))
            line = f"  {kpi.label:<{label_width}}{_value(kpi, value):>12}   {_change(kpi, change):<22}"
            if card.organisation is not None:
                org = _scaled(kpi, card.organisation.get(kpi.column))
                line += f"{_value(kpi, org):>12}"
            lines.append(line.rstrip())
    lines += ["", "— no data for the month (no finished items, no closed sprint, no survey wave, …)"]
    return "\n".join(lines)
