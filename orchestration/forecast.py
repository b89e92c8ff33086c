"""Monte Carlo flow forecasts from a team's daily throughput.

Each trial replays days drawn at random (with replacement) from the team's
recent daily throughput — items finished, not canceled, per UTC day, zeros
included — so the forecast carries the team's real variability and makes no
assumption about its shape. Two questions:

- *when* will N items be done: the day by which `c` % of trials finished them;
- *how many* items by a date: the count that `c` % of trials reached at least.

A backtest replays the method on the team's own past: from each weekly origin
with a full history window behind it and a horizon after it, forecast how many
items the horizon will see at 85 % confidence and check the actual count
reached it. A well-calibrated forecast hits about 85 % of the time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

CONFIDENCES = (0.50, 0.85, 0.95)
DEFAULT_TRIALS = 10_000
DEFAULT_SEED = 42
DEFAULT_WINDOW_WEEKS = 12
MAX_DAYS = 3650  # a forecast further out than ten years is no forecast


class ForecastError(ValueError):
    """The history cannot answer the question (e.g. nothing was finished in it)."""


def _at_least_share(sorted_values: np.ndarray, confidence: float) -> int:
    """The element at rank ceil(c·n) of values sorted in the order that makes the
    answer conservative (ascending days, descending counts)."""
    index = max(0, math.ceil(confidence * len(sorted_values)) - 1)
    return int(sorted_values[index])


def days_to_finish(history: list[int], items: int, trials: int, seed: int) -> dict[float, int]:
    """{confidence: days}: the smallest d such that a share ≥ confidence of trials
    finished `items` items within d days (day 1 is the first forecast day)."""
    samples = np.asarray(history, dtype=np.int64)
    if items < 1:
        raise ForecastError("--items must be 1 or more")
    if samples.size == 0 or samples.max() == 0:
        raise ForecastError("no item was finished in the history window: nothing to forecast from")
    rng = np.random.default_rng(seed)
    days = np.full(trials, -1, dtype=np.int64)
    done = np.zeros(trials, dtype=np.int64)
    # Draw in blocks so long forecasts do not hold a trials × MAX_DAYS matrix.
    step, elapsed = 64, 0
    while (days < 0).any() and elapsed < MAX_DAYS:
        block = rng.choice(samples, size=(trials, step))
        running = done[:, None] + np.cumsum(block, axis=1)
        reached = running >= items
        first = np.where(reached.any(axis=1), reached.argmax(axis=1) + 1 + elapsed, -1)
        days = np.where((days < 0) & (first > 0), first, days)
        done = running[:, -1]
        elapsed += step
    if (days < 0).any():
        raise ForecastError(f"{items} items would take more than {MAX_DAYS} days at this throughput")
    ordered = np.sort(days)
    return {c: _at_least_share(ordered, c) for c in CONFIDENCES}


def items_by(history: list[int], days: int, trials: int, seed: int) -> dict[float, int]:
    """{confidence: items}: the largest k such that a share ≥ confidence of trials
    finished at least k items in `days` days."""
    samples = np.asarray(history, dtype=np.int64)
    if samples.size == 0:
        raise ForecastError("no history to forecast from")
    if days < 1:
        return dict.fromkeys(CONFIDENCES, 0)
    rng = np.random.default_rng(seed)
    totals = rng.choice(samples, size=(trials, days)).sum(axis=1)
    ordered = np.sort(totals)[::-1]
    return {c: _at_least_share(ordered, c) for c in CONFIDENCES}


def history_window(as_of: date, weeks: int) -> tuple[date, date]:
    """The `weeks` complete ISO weeks before the week of `as_of`: [start, end)."""
    end = as_of - timedelta(days=as_of.weekday())
    return end - timedelta(weeks=weeks), end


def daily_series(counts: dict[date, int], start: date, end: date) -> list[int]:
    """Items finished on each day of [start, end), zeros included."""
    return [counts.get(start + timedelta(days=n), 0) for n in range((end - start).days)]


@dataclass(frozen=True)
class BacktestResult:
    origins: int
    hits: int
    horizon_days: int
    details: tuple[tuple[date, int, int], ...]  # (origin, forecast at 85 %, actual)

    @property
    def hit_rate(self) -> float | None:
        return self.hits / self.origins if self.origins else None


def backtest(
    counts: dict[date, int],
    first_day: date,
    as_of: date,
    window_weeks: int = DEFAULT_WINDOW_WEEKS,
    horizon_weeks: int = 8,
    trials: int = DEFAULT_TRIALS,
    seed: int = DEFAULT_SEED,
    confidence: float = 0.85,
) -> BacktestResult:
    """From each Monday origin with `window_weeks` of history since `first_day` and a
    horizon of `horizon_weeks` ending before the week of `as_of`: forecast the items
    the horizon will see at `confidence`, and count a hit when the actual reached it."""
    horizon = horizon_weeks * 7
    _, last_complete = history_window(as_of, 0)
    first_origin = first_day + timedelta(days=(7 - first_day.weekday()) % 7) + timedelta(weeks=window_weeks)
    details = []
    origin = first_origin
    while origin + timedelta(days=horizon) <= last_complete:
        start, end = origin - timedelta(weeks=window_weeks), origin
        history = daily_series(counts, start, end)
        forecast = items_by(history, horizon, trials, seed)[confidence]
        actual = sum(daily_series(counts, origin, origin + timedelta(days=horizon)))
        details.append((origin, forecast, actual))
        origin += timedelta(weeks=1)
    hits = sum(1 for _, forecast, actual in details if actual >= forecast)
    return BacktestResult(len(details), hits, horizon, tuple(details))
