"""`productops scorecard`: one team's month in the terminal, from the published marts.

It reads `marts.team_scorecard_monthly` of the published copy (read-only) and
prints each area's headline KPI one under the other, durations in days, with
the change since the previous month and an arrow. When the marts carry an
organisation roll-up (team `__all__`) it is shown beside the team, and a month
still under way is marked partial. KPIs with a target carry their target and
status from `marts.kpi_status`, and the team's open alerts (`marts.kpi_alerts`)
are listed under the card. The dashboard reads targets and alerts through the
same queries (`latest_statuses`, `open_alerts`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
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
    target_kpi: str | None = None  # its name in marts.kpi_status, when it has a target


AREAS: tuple[tuple[str, tuple[Kpi, ...]], ...] = (
    (
        "Delivery",
        (
            Kpi("throughput", "Throughput (items finished)", "count", HIGHER, target_kpi="throughput"),
            Kpi("lead_time_p50_hours", "Lead time, median (days)", "days", LOWER, hours_to_days=True),
            Kpi("cycle_time_p50_hours", "Cycle time, median (days)", "days", LOWER, hours_to_days=True),
            Kpi("on_time_rate", "On-time rate", "share", HIGHER, target_kpi="on_time_rate"),
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
            Kpi("response_rate", "Survey response rate", "share", HIGHER, target_kpi="response_rate"),
            Kpi(
                "satisfaction_score", "Satisfaction (0-100)", "score", HIGHER, target_kpi="satisfaction_score"
            ),
            Kpi("enps", "eNPS", "score", HIGHER, target_kpi="enps"),
        ),
    ),
    (
        "Improvement",
        (
            Kpi("completion_rate", "Action completion rate", "share", HIGHER, target_kpi="completion_rate"),
            Kpi("open_actions_end", "Open actions at month end", "count", LOWER),
            Kpi("open_action_age_p50_days", "Open action age, median (days)", "days", LOWER),
        ),
    ),
)


# KPIs of marts.kpi_status with no line of their own on the card: (label, unit).
OTHER_TARGETS = {
    "cycle_time_p85_days": ("Cycle time, p85 (days)", "days"),
    "lead_time_p85_days": ("Lead time, p85 (days)", "days"),
}
ADOPTION_TARGET = "adoption_rate:"  # one KPI per tool: adoption_rate:<tool_id>

# Status words (never colour alone) and a mark that reads in any terminal.
STATUS_TEXT = {
    "on_target": "on target",
    "at_risk": "at risk",
    "off_target": "off target",
    "no_data": "no data",
}
STATUS_MARK = {"on_target": "✓", "at_risk": "!", "off_target": "✗", "no_data": "·"}

# Each KPI's latest period begun before the month ends: a complete one before one under way.
LATEST_STATUSES = """
    select kpi, period_grain, period_label, period_start, is_complete, value, target, direction,
        status, sample_size, trend
    from (
        select
            *,
            row_number() over (partition by kpi order by is_complete desc, period_start desc) as recency
        from kpi_status
        where team_id = ? and period_start < ?
    ) as ranked
    where recency = 1
    order by kpi
"""
# kpi_alerts holds the open alerts only; the organisation sees every team's.
OPEN_ALERTS = """
    select team_id, kpi, rule, period_grain, period_label, period_start, value, baseline,
        sample_size, raised_at
    from kpi_alerts
    where team_id = ? or ? = '__all__'
    order by raised_at desc, team_id, kpi, rule
"""


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
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)  # kpi → its kpi_status row
    alerts: list[dict[str, Any]] = field(default_factory=list)


def _month(text: str) -> date:
    found = re.fullmatch(r"(\d{4})-(\d{2})(?:-01)?", text.strip())
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise ScorecardError(f"--month {text!r} is not a month: write YYYY-MM, e.g. 2026-10")
    return date(int(found.group(1)), int(found.group(2)), 1)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _following(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def latest_statuses(con: duckdb.DuckDBPyConnection, team_id: str, month: date) -> dict[str, dict[str, Any]]:
    """kpi → the kpi_status row of its latest period begun by the end of `month` (none without the mart)."""
    if not _has(con, "kpi_status"):
        return {}
    return {row["kpi"]: row for row in _rows(con, LATEST_STATUSES, [team_id, _following(month)])}


def open_alerts(con: duckdb.DuckDBPyConnection, team_id: str) -> list[dict[str, Any]]:
    if not _has(con, "kpi_alerts"):
        return []
    return _rows(con, OPEN_ALERTS, [team_id, team_id])


def _has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables"
            " where table_schema = current_schema() and table_name = ?",
            [table],
        ).fetchall()[0][0]
    )


def _team(con: duckdb.DuckDBPyConnection, wanted: str) -> tuple[str, str]:
    teams = con.execute(
        f"select team_id, team_name from dim_teams where team_id <> '{ORGANISATION}' order by team_id"
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
    return _following(row["month_start"]) <= today


def load_scorecard(
    con: duckdb.DuckDBPyConnection, team: str, month: str | None, today: date | None = None
) -> Scorecard:
    today = today or date.today()
    team_id, team_name = _team(con, team)
    rows = _rows(con, f"select * from {SCORECARD} where team_id = ? order by month_start", [team_id])
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
        f"select * from {SCORECARD} where team_id = ? and month_start = ?",
        [ORGANISATION, chosen["month_start"]],
    )
    return Scorecard(
        team_id=team_id,
        team_name=team_name,
        month=chosen["month_start"],
        is_complete=_complete(chosen, today),
        team=chosen,
        organisation=organisation[0] if organisation else None,
        statuses=latest_statuses(con, team_id, chosen["month_start"]),
        alerts=open_alerts(con, team_id),
    )


# -- rendering ------------------------------------------------------------------------


def _scaled(kpi: Kpi, value: Any) -> float | None:
    if value is None:
        return None
    return float(value) / 24 if kpi.hours_to_days else float(value)


def _value(unit: str, value: float | None) -> str:
    if value is None:
        return "—"
    if unit == "share":
        return f"{value * 100:.0f} %"
    if unit == "count":
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


def target_text(direction: str | None, target: str) -> str:
    """`≥ 80 %`: the side of the target that is good."""
    return f"{'≤' if direction == LOWER else '≥'} {target}"


def status_text(row: dict[str, Any]) -> str:
    """`! at risk (2026-11-23)`: a mark and the word, then the period judged (partial if under way)."""
    period = row["period_label"] + ("" if row["is_complete"] else ", partial")
    return f"{STATUS_MARK[row['status']]} {STATUS_TEXT[row['status']]} ({period})"


def _target(unit: str, row: dict[str, Any] | None) -> str:
    if row is None:
        return ""
    return f"{target_text(row['direction'], _value(unit, row['target'])):>9}  {status_text(row)}"


def _other_targets(card: Scorecard) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, unit, status row) of the KPIs with a target but no line of their own."""
    others = []
    for kpi, row in card.statuses.items():
        if kpi in OTHER_TARGETS:
            others.append((*OTHER_TARGETS[kpi], row))
        elif kpi.startswith(ADOPTION_TARGET):
            others.append((f"Adoption of {kpi.removeprefix(ADOPTION_TARGET)}", "share", row))
    return others


def kpi_unit(kpi: str) -> str:
    """The unit of a kpi_status / kpi_alerts KPI: share, count, days or score."""
    shown = {k.target_kpi: k.unit for _, kpis in AREAS for k in kpis if k.target_kpi}
    if kpi.startswith(ADOPTION_TARGET):
        return "share"
    return shown.get(kpi) or OTHER_TARGETS.get(kpi, ("", "score"))[1]


def period_name(row: dict[str, Any]) -> str:
    """`the week of 2026-11-23`, `wave 2026-Q4`, `2026-11`."""
    grain = row.get("period_grain")
    return {"week": "the week of ", "wave": "wave "}.get(grain, "") + str(row["period_label"])


def _alert_lines(card: Scorecard) -> list[str]:
    if not card.alerts:
        return ["Open alerts: none."]
    lines = [f"Open alerts ({len(card.alerts)}), from marts.kpi_alerts:"]
    for alert in card.alerts:
        unit = kpi_unit(alert["kpi"])
        team = f"{alert['team_id']}: " if card.team_id == ORGANISATION else ""
        baseline = ""
        if alert["baseline"] is not None:
            baseline = f" against a baseline of {_value(unit, alert['baseline'])}"
        lines.append(
            f"  ! {team}{alert['kpi']} {_value(unit, alert['value'])}{baseline} "
            f"in {period_name(alert)} (rule {alert['rule']}, {alert['sample_size']} items)"
        )
    return lines


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
    if card.statuses:
        header += f"  {'target':>9}  status (period judged)"
    lines.append(header.rstrip())
    for area, kpis in AREAS:
        title = area
        if area == "Satisfaction" and card.team.get("survey_wave"):
            title += f" (survey wave {card.team['survey_wave']})"
        lines.append(title)
        for kpi in kpis:
            value = _scaled(kpi, card.team.get(kpi.column))
            change = _scaled(kpi, card.team.get(f"{kpi.column}_change"))
            line = f"  {kpi.label:<{label_width}}{_value(kpi.unit, value):>12}   {_change(kpi, change):<22}"
            if card.organisation is not None:
                org = _scaled(kpi, card.organisation.get(kpi.column))
                line += f"{_value(kpi.unit, org):>12}"
            elif card.statuses:
                line += " " * 12
            if kpi.target_kpi and card.statuses:
                line += "  " + _target(kpi.unit, card.statuses.get(kpi.target_kpi))
            lines.append(line.rstrip())
    others = _other_targets(card)
    if others:
        lines.append("Other KPIs with a target")
        for label, unit, row in others:
            line = f"  {label:<{label_width}}{_value(unit, row['value']):>12}   {'':<22}"
            line += (" " * 12 if card.organisation is not None else "") + "  " + _target(unit, row)
            lines.append(line.rstrip())
    lines += ["", *_alert_lines(card)]
    lines += ["", "— no data for the month (no finished items, no closed sprint, no survey wave, …)"]
    if card.statuses:
        lines.append(
            "Targets: each KPI's latest period begun by the month's end (week, survey wave or month), "
            f"from marts.kpi_status; {STATUS_MARK['no_data']} no data: too few items or a hidden "
            "survey group."
        )
    return "\n".join(lines)
