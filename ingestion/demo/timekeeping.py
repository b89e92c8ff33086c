"""The history window, time zones and the timestamp formats each source uses.

Every instant is held as an aware UTC datetime with millisecond precision and
only formatted at the edge, in the shape the real system writes it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

WORKDAY_START_HOUR = 8.0
WORKDAY_END_HOUR = 18.5


@dataclass(frozen=True)
class Window:
    """Twelve months of history: [start, end), end being run_date 00:00 UTC.

    Ending at the start of run_date keeps every generated instant in the past
    when run_date is today.
    """

    run_date: date
    start: datetime
    end: datetime

    @classmethod
    def ending_on(cls, run_date: date) -> Window:
        try:
            first = run_date.replace(year=run_date.year - 1)
        except ValueError:  # 29 February
            first = run_date.replace(year=run_date.year - 1, day=28)
        return cls(
            run_date=run_date,
            start=datetime.combine(first, time(), UTC),
            end=datetime.combine(run_date, time(), UTC),
        )

    @property
    def start_date(self) -> date:
        return self.start.date()

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def day(self, offset: int) -> date:
        return self.start_date + timedelta(days=offset)

    def monday_after(self, offset: int) -> date:
        """The Monday on or after start + offset days (rollouts, sprints, moves)."""
        d = self.day(offset)
        return d + timedelta(days=(7 - d.weekday()) % 7)

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def to_ms(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def at_local(day: date, hours: float, tz: ZoneInfo) -> datetime:
    """The UTC instant of a fractional local hour on a local day."""
    seconds = round(hours * 3600 * 1000) / 1000
    local = datetime.combine(day, time(), tz) + timedelta(seconds=seconds)
    # Adding a timedelta to an aware datetime keeps wall-clock arithmetic,
    # which is what a local working hour means.
    return to_ms(local.astimezone(UTC))


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def next_workday(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def working_time(moment: datetime, tz: ZoneInfo, rng: random.Random) -> datetime:
    """Move an instant forward into local working hours (people act by day)."""
    local = moment.astimezone(tz)
    hour = local.hour + local.minute / 60
    if local.weekday() >= 5 or hour >= WORKDAY_END_HOUR:
        day = next_workday(local.date()) if local.weekday() < 5 else local.date()
        while day.weekday() >= 5:
            day += timedelta(days=1)
        return at_local(day, rng.uniform(8.5, 11.5), tz)
    if hour < WORKDAY_START_HOUR:
        return at_local(local.date(), rng.uniform(8.5, 10.5), tz)
    return to_ms(moment)


def lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))


# --- formats --------------------------------------------------------------


def jira_time(moment: datetime, tz: ZoneInfo) -> str:
    """Jira Cloud: `2024-03-31T10:00:00.000+0200` (offset without a colon)."""
    local = moment.astimezone(tz)
    return f"{local:%Y-%m-%dT%H:%M:%S}.{local.microsecond // 1000:03d}{local:%z}"


def iso_z(moment: datetime) -> str:
    """GitHub: `2024-03-31T08:00:00Z`."""
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%S}Z"


def iso_z_ms(moment: datetime) -> str:
    """Okta and Jira sprints: `2024-03-31T08:00:00.000Z`."""
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def iso_local(moment: datetime, tz: ZoneInfo) -> str:
    """Usage logs: `2026-03-14T09:41:02+01:00`."""
    return moment.astimezone(tz).isoformat(timespec="seconds")


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
