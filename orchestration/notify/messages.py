"""The texts people read: one KPI alert, and a team's weekly digest."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Row = Mapping[str, Any]

RATE_KPIS = ("on_time_rate", "response_rate", "completion_rate", "adoption_rate:")
ARROWS = {"up": "↑", "down": "↓", "flat": "→"}
STATUS_MARKS = {
    "on_target": "✅ on target",
    "at_risk": "⚠️ at risk",
    "off_target": "❌ off target",
    "no_data": "· not judged",
}


def format_value(kpi: str, value: float | None) -> str:
    if value is None:
        return "—"
    if kpi.endswith("_days"):
        return f"{value:.1f} d"
    if kpi.startswith(RATE_KPIS):
        return f"{value:.0%}"
    if kpi == "enps":
        return f"{value:+.0f}"
    if kpi == "throughput":
        return f"{value:.0f}"
    return f"{value:.1f}"


def arrow(value: float | None, previous: float | None) -> str:
    """Which way the value moved since the previous period (not whether that is good)."""
    if value is None or previous is None:
        return " "
    if value > previous:
        return ARROWS["up"]
    if value < previous:
        return ARROWS["down"]
    return ARROWS["flat"]


def alert_subject(alert: Row) -> str:
    return f"KPI alert: {alert['team_id']} · {alert['kpi']}"


def alert_text(alert: Row) -> str:
    kpi = alert["kpi"]
    value = format_value(kpi, alert["value"])
    if alert["baseline"] is None:
        against = f"threshold {format_value(kpi, alert['threshold'])}"
    else:
        against = (
            f"baseline {format_value(kpi, alert['baseline'])} "
            f"(median of the {alert['baseline_periods']} {alert['period_grain']}s before, "
            f"{alert['baseline_sample_size']} items)"
        )
    return (
        f"{alert['team_id']}: {kpi} was {value} in the {alert['period_grain']} {alert['period_label']} "
        f"({alert['sample_size']} items) against {against}. Rule: {alert['rule']}.\n"
        f"Alert id {alert['alert_id']}; raised when the period closed, {alert['raised_at']:%Y-%m-%d}."
    )


def digest_subject(team_id: str, week_label: str) -> str:
    return f"Weekly KPI digest: {team_id} ({week_label})"


def digest_text(team_id: str, week_label: str, statuses: Sequence[Row], alerts: Sequence[Row]) -> str:
    """The team's scorecard: each KPI's latest complete period against its target, with an
    arrow for the move since the period before (and whether that move is better or worse),
    then the team's open alerts."""
    lines = [f"Weekly KPI digest for {team_id} — {week_label}", ""]
    if statuses:
        width = max(len(s["kpi"]) for s in statuses)
        for s in statuses:
            kpi = s["kpi"]
            target_sign = "≥" if s["direction"] == "higher_is_better" else "≤"
            trend = f" ({s['trend']})" if s["trend"] else ""
            move = arrow(s["value"], s["previous_value"]) if s["trend"] else " "
            lines.append(
                f"  {kpi:<{width}}  {format_value(kpi, s['value']):>7} {move}"
                f"  {STATUS_MARKS[s['status']]:<14} target {target_sign} {format_value(kpi, s['target'])}"
                f"  [{s['period_grain']} {s['period_label']}]{trend}"
            )
    else:
        lines.append("  No KPI with a target yet (seed kpi_targets.csv).")
    lines.append("")
    if alerts:
        lines.append(f"Open alerts ({len(alerts)}):")
        lines.extend(f"  • {alert_text(a).splitlines()[0]}" for a in alerts)
    else:
        lines.append("Open alerts: none.")
    return "\n".join(lines)
