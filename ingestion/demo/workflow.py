"""The life of one work item, independent of the tracker that records it.

An item is created, waits, is started, maybe reviewed, is resolved; some are
reopened and resolved again, some are canceled, some are still open when the
history ends. Trackers (Jira, GitHub) translate these steps into their own
statuses and events.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from ingestion.demo.timekeeping import lognormal, working_time

TODO, IN_PROGRESS, REVIEW, DONE = "todo", "in_progress", "review", "done"
COMPLETED, WONT_DO, DUPLICATE = "completed", "wont_do", "duplicate"


@dataclass(frozen=True)
class Step:
    at: datetime
    state: str  # IN_PROGRESS | REVIEW | DONE | TODO (a move between to-do statuses)
    outcome: str | None = None  # DONE steps: COMPLETED | WONT_DO | DUPLICATE


@dataclass(frozen=True)
class FlowProfile:
    """How a team's items move; medians in days, shares in [0, 1]."""

    wait_median: float = 3.0
    cycle_median: float = 4.0
    review_share: float = 0.55
    reopen_share: float = 0.07
    cancel_share: float = 0.06
    skip_share: float = 0.03  # resolved without ever being started
    shelve_share: float = 0.06  # left in the backlog; some are cleaned up as won't do
    stay_reopened_share: float = 0.0  # reopened items that are still open at the end


def _after(rng: random.Random, moment: datetime, days: float, tz: ZoneInfo) -> datetime:
    """A later instant in working hours, strictly after `moment`."""
    candidate = working_time(moment + timedelta(days=days), tz, rng)
    if candidate <= moment:
        candidate = moment + timedelta(minutes=rng.randint(3, 90))
    return candidate


def simulate(
    rng: random.Random,
    created: datetime,
    profile: FlowProfile,
    tz: ZoneInfo,
    end: datetime,
    cycle_factor: Callable[[datetime], float] = lambda _: 1.0,
) -> list[Step]:
    """The item's steps after creation, cut at `end` (what has happened so far)."""
    steps: list[Step] = []
    roll = rng.random()
    if roll < profile.cancel_share:
        moment = created
        if rng.random() < 0.5:  # started, then abandoned
            moment = _after(rng, moment, lognormal(rng, profile.wait_median, 0.8), tz)
            steps.append(Step(moment, IN_PROGRESS))
        moment = _after(rng, moment, lognormal(rng, profile.wait_median * 1.5, 0.8), tz)
        outcome = DUPLICATE if rng.random() < 0.25 else WONT_DO
        steps.append(Step(moment, DONE, outcome))
    elif roll < profile.cancel_share + profile.shelve_share:
        if rng.random() < 0.4:  # a backlog clean-up, weeks or months later
            moment = _after(rng, created, lognormal(rng, 60.0, 0.6), tz)
            steps.append(Step(moment, DONE, WONT_DO))
    elif roll < profile.cancel_share + profile.shelve_share + profile.skip_share:
        moment = _after(rng, created, lognormal(rng, profile.wait_median, 0.8), tz)
        steps.append(Step(moment, DONE, COMPLETED))
    else:
        start = _after(rng, created, lognormal(rng, profile.wait_median, 0.9), tz)
        steps.append(Step(start, IN_PROGRESS))
        cycle = lognormal(rng, profile.cycle_median * cycle_factor(start), 0.55)
        moment = start
        if rng.random() < profile.review_share:
            moment = _after(rng, moment, cycle * 0.65, tz)
            steps.append(Step(moment, REVIEW))
            moment = _after(rng, moment, cycle * 0.35, tz)
        else:
            moment = _after(rng, moment, cycle, tz)
        steps.append(Step(moment, DONE, COMPLETED))
        if rng.random() < profile.reopen_share:
            moment = _after(rng, moment, rng.uniform(1, 6), tz)
            steps.append(Step(moment, IN_PROGRESS))
            if rng.random() >= profile.stay_reopened_share:
                moment = _after(rng, moment, rng.uniform(0.5, 3), tz)
                steps.append(Step(moment, DONE, COMPLETED))
    return [s for s in steps if s.at < end]


def started_at(steps: list[Step]) -> datetime | None:
    return next((s.at for s in steps if s.state in (IN_PROGRESS, REVIEW)), None)


def resolution(steps: list[Step]) -> Step | None:
    """The final DONE step if the item is done now."""
    return steps[-1] if steps and steps[-1].state == DONE else None


def reopen_count(steps: list[Step]) -> int:
    return sum(1 for a, b in pairwise(steps) if a.state == DONE and b.state != DONE)
