"""Two-week sprints of the scrum projects and which sprints each issue was in.

An issue joins the sprint during which work on it starts: before the sprint
starts (committed) or after (scope added). Unfinished issues are carried over
to the next sprint when a sprint is completed, as Jira does.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ingestion.demo.planning import PlannedItem
from ingestion.demo.timekeeping import Window, at_local, iso_z_ms

SPRINT_DAYS = 14


@dataclass(frozen=True)
class Sprint:
    sprint_id: int
    name: str
    board_id: int
    start: datetime
    end: datetime
    completed: datetime | None  # set once the sprint is closed

    def state(self, window: Window) -> str:
        if self.completed is not None:
            return "closed"
        return "active" if self.start < window.end else "future"

    def payload(self, window: Window) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.sprint_id,
            "name": self.name,
            "state": self.state(window),
            "boardId": self.board_id,
            "goal": "",
            "startDate": iso_z_ms(self.start),
            "endDate": iso_z_ms(self.end),
        }
        if self.completed is not None:
            out["completeDate"] = iso_z_ms(self.completed)
        return out


def plan_sprints(
    project_key: str, board_id: int, first_id: int, tz: ZoneInfo, window: Window
) -> list[Sprint]:
    sprints: list[Sprint] = []
    day = window.monday_after(0)
    number = 1
    while True:
        start = at_local(day, 10.0, tz)
        end = at_local(day + timedelta(days=SPRINT_DAYS), 10.0, tz)
        closing = end - timedelta(minutes=30)  # the team completes it just before the next
        completed = closing if closing < window.end else None
        sprints.append(
            Sprint(first_id + number - 1, f"{project_key} Sprint {number}", board_id, start, end, completed)
        )
        if start >= window.end:  # one future sprint is planned ahead
            return sprints
        day += timedelta(days=SPRINT_DAYS)
        number += 1


def memberships(
    rng: random.Random, item: PlannedItem, sprints: list[Sprint]
) -> list[tuple[datetime, Sprint]]:
    """(time the issue joined, sprint) in order; empty for never-started issues."""
    begin = item.started or (item.resolved.at if item.resolved else None)
    if begin is None:
        return []
    index = next((i for i, s in enumerate(sprints) if s.start <= begin < s.end), None)
    if index is None:
        return []
    sprint = sprints[index]
    if item.created < sprint.start - timedelta(hours=3):
        joined = sprint.start - timedelta(minutes=rng.randint(30, 170))  # sprint planning
    else:
        joined = item.created + (begin - item.created) * rng.uniform(0.1, 0.6)
    out = [(joined, sprint)]
    done = item.resolved
    while sprint.completed is not None and (done is None or done.at > sprint.end):
        if index + 1 >= len(sprints):
            break
        index += 1
        out.append((sprint.completed, sprints[index]))
        sprint = sprints[index]
    return out
