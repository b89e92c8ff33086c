"""Monte Carlo forecasts: hand-checkable distributions, the backtest, and the command."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta

import pytest

from orchestration.forecast import (
    ForecastError,
    backtest,
    daily_series,
    days_to_finish,
    history_window,
    items_by,
)
from tests.conftest import REPO


def test_constant_throughput_gives_a_degenerate_distribution():
    # 2 items every day: 10 items take 5 days in every trial; 7 days bring 14.
    assert days_to_finish([2] * 84, 10, trials=10_000, seed=1) == {0.5: 5, 0.85: 5, 0.95: 5}
    assert items_by([2] * 84, 7, trials=10_000, seed=1) == {0.5: 14, 0.85: 14, 0.95: 14}


def test_a_two_value_distribution_gives_known_percentiles():
    # Days of 1 or 2 items, equally likely; 3 items: never in 1 day, in 2 days unless
    # both days give 1 (P = 0.75), always in 3 days. So 50 % → 2 days, 85 % and 95 % → 3.
    assert days_to_finish([1, 2] * 42, 3, trials=10_000, seed=3) == {0.5: 2, 0.85: 3, 0.95: 3}
    # Days of 0 or 1 item: 2 days bring 0 (P .25), 1 (.5) or 2 (.25). At least 1 item
    # with P .75 → the 50 % answer is 1; only 0 is certain at 85 % and 95 %.
    assert items_by([0, 1] * 42, 2, trials=10_000, seed=3) == {0.5: 1, 0.85: 0, 0.95: 0}


def test_the_seed_fixes_the_answer_and_nothing_finished_is_an_error():
    history = [0, 0, 1, 3, 0, 2, 5] * 12
    assert days_to_finish(history, 40, 10_000, 7) == days_to_finish(history, 40, 10_000, 7)
    with pytest.raises(ForecastError, match="no item was finished"):
        days_to_finish([0] * 84, 5, 100, 1)


def test_history_window_is_the_complete_weeks_before():
    # Thursday 2026-11-19: the week of Monday 11-16 is under way.
    assert history_window(date(2026, 11, 19), 12) == (date(2026, 8, 24), date(2026, 11, 16))
    assert daily_series({date(2026, 1, 2): 3}, date(2026, 1, 1), date(2026, 1, 4)) == [0, 3, 0]


def test_backtest_hits_every_origin_on_steady_throughput_and_misses_after_a_collapse():
    first = date(2026, 1, 5)  # a Monday
    steady = {first + timedelta(days=n): 1 for n in range(300)}
    result = backtest(steady, first, first + timedelta(days=300), window_weeks=4, horizon_weeks=2, trials=500)
    # Origins every Monday from 4 weeks after the start while 2 weeks fit before the
    # as-of week: (300 days → 42 full weeks + 6 days; the as-of week starts at day 294)
    # origins at weeks 4 … 40 = 37; each forecast 14, each actual 14: all hits.
    assert result.origins == 37 and result.hits == 37 and result.hit_rate == 1.0
    # Throughput stops after day 200: forecasts made from busy windows miss.
    collapsed = {day: n for day, n in steady.items() if day < first + timedelta(days=200)}
    missed = backtest(
        collapsed, first, first + timedelta(days=300), window_weeks=4, horizon_weeks=2, trials=500
    )
    assert missed.origins == 37 and missed.hits < 37
    misses = [origin for origin, forecast, actual in missed.details if actual < forecast]
    assert min(misses) == date(2026, 7, 13)  # the first horizon that runs past day 200 (07-24)


@pytest.mark.e2e
def test_forecast_command_on_the_demo_and_its_backtest(published_demo, capsys):
    def forecast(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "orchestration.cli", "forecast", *args],
            cwd=REPO,
            env=published_demo.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    when = forecast("--team", "payments", "--items", "20")
    assert when.returncode == 0, when.stderr
    assert "85% confident: within" in when.stdout and "Backtest:" in when.stdout
    by = forecast("--team", "payments", "--by", "2026-12-31", "--json")
    result = json.loads(by.stdout)
    answers = [result["answers"][c]["items"] for c in ("50%", "85%", "95%")]
    assert answers == sorted(answers, reverse=True) and answers[0] > 0
    assert result["as_of"] == "2026-11-20" and result["history"]["days"] == 84
    assert forecast("--team", "nobody", "--items", "3").returncode == 2

    hits = origins = 0
    teams = ("payments", "platform", "mobile", "growth", "data", "search", "identity", "infra")
    for team in teams:
        test = json.loads(forecast("--team", team, "--items", "5", "--json").stdout)["backtest"]
        hits, origins = hits + test["hits"], origins + test["origins"]
    with capsys.disabled():
        rate = f"{hits} of {origins} times ({hits / origins:.0%})"
        print(f"\nBacktest on the demo: 8-week forecasts at 85 % were reached {rate}")
    assert origins > 100 and 0.6 <= hits / origins <= 1.0
