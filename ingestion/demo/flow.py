"""How fast each team delivers, including the story of the year.

Payments' cycle time halves once it has adopted the story tool (rolled out
around month six): the product-ops lead should see the drop in
`delivery_weekly` and line it up with `adoption_weekly`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from ingestion.demo.catalog import STORY_TEAM, STORY_TOOL, TOOL_BY_ID
from ingestion.demo.planning import PlannedItem
from ingestion.demo.timekeeping import Window, at_local, zone
from ingestion.demo.workflow import COMPLETED, FlowProfile

PROFILES = {
    "payments": FlowProfile(wait_median=3.0, cycle_median=6.0),
    "platform": FlowProfile(wait_median=3.5, cycle_median=4.5),
    "mobile": FlowProfile(wait_median=3.0, cycle_median=4.0),
    "growth": FlowProfile(wait_median=2.0, cycle_median=3.5, review_share=0.0),
    "data": FlowProfile(wait_median=4.0, cycle_median=5.0, review_share=0.0),
    "search": FlowProfile(wait_median=3.0, cycle_median=4.0),
    "identity": FlowProfile(wait_median=3.5, cycle_median=4.5),
    "infra": FlowProfile(wait_median=2.0, cycle_median=3.0, review_share=0.0),
}
OPS_PROFILE = FlowProfile(wait_median=1.0, cycle_median=2.0, review_share=0.0, reopen_share=0.1)
GITHUB_PROFILE = FlowProfile(
    wait_median=2.5, cycle_median=3.0, review_share=0.0, reopen_share=0.08, stay_reopened_share=0.35
)
# Nights and weekends add a fixed overhead, so the factor is below a half to make
# the measured (elapsed) cycle time roughly halve.
STORY_SPEEDUP = 0.4
STORY_RAMP_DAYS = 14  # the team is fully on the tool two weeks after rollout


def rollout_instant(tool_id: str, window: Window) -> datetime:
    day = window.monday_after(TOOL_BY_ID[tool_id].rollout_day)
    return at_local(day, 9.0, zone("UTC"))


def cycle_factor_for(team_id: str | None, window: Window) -> Callable[[datetime], float]:
    if team_id != STORY_TEAM:
        return lambda _: 1.0
    rollout = rollout_instant(STORY_TOOL, window)
    full = rollout + timedelta(days=STORY_RAMP_DAYS)

    def factor(start: datetime) -> float:
        if start <= rollout:
            return 1.0
        if start >= full:
            return STORY_SPEEDUP
        done = (start - rollout) / (full - rollout)
        return 1.0 - (1.0 - STORY_SPEEDUP) * done

    return factor


STORY_KPI_LABEL = "kpi:cycle_time_p85_days"


def label_story_action(items: list[PlannedItem], window: Window) -> bool:
    """Payments' retro decided to try the story tool to speed delivery up: its last action
    closed before the rollout names the KPI it targets (`kpi:<name>`), so
    `improvement_impact` compares cycle time before and after. No randomness is drawn, so
    the rest of the demo stays as it was. True when an action was labelled."""
    rollout = rollout_instant(STORY_TOOL, window)
    closed_before = [
        i
        for i in items
        if i.is_action
        and i.resolved is not None
        and i.resolved.outcome == COMPLETED
        and i.resolved.at <= rollout
    ]
    if closed_before:
        story = max(closed_before, key=lambda i: i.resolved.at)
        story.labels.append(STORY_KPI_LABEL)
    return bool(closed_before)
