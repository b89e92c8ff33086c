"""`productops forecast --team T (--items N | --by DATE)`: when, or how many, from the
published marts (read-only), with the backtest figure of the method on the team."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, timedelta

from ingestion.config import load_settings
from orchestration.forecast import (
    CONFIDENCES,
    DEFAULT_SEED,
    DEFAULT_TRIALS,
    DEFAULT_WINDOW_WEEKS,
    ForecastError,
    backtest,
    daily_series,
    days_to_finish,
    history_window,
    items_by,
)

# Throughput as delivery_weekly counts it: resolved, not canceled; per UTC day.
DAILY_THROUGHPUT_SQL = """
select cast(timezone('UTC', resolved_at) as date) as day, count(*) as items
from fct_work_items
where team_id = ? and resolved_at is not null and not is_canceled
group by 1
"""
BOUNDS_SQL = """
select
    min(cast(timezone('UTC', created_at) as date)),
    max(cast(timezone('UTC', greatest(created_at, coalesce(resolved_at, created_at))) as date))
from fct_work_items
"""


def read_team_history(con, team: str) -> tuple[dict[date, int], date | None, date | None]:
    teams = {row[0] for row in con.execute("select team_id from dim_teams").fetchall()}
    if team not in teams:
        raise ForecastError(f"unknown team {team!r}; teams: {', '.join(sorted(teams))}")
    counts = {day: items for day, items in con.execute(DAILY_THROUGHPUT_SQL, [team]).fetchall()}
    first, last = con.execute(BOUNDS_SQL).fetchall()[0]
    return counts, first, last


def run_forecast(con, args: argparse.Namespace) -> dict:
    counts, first, last = read_team_history(con, args.team)
    if args.as_of:
        as_of = date.fromisoformat(args.as_of)
    else:  # the day after the newest data, or today if the data is current
        as_of = min(date.today(), last + timedelta(days=1)) if last else date.today()
    start, end = history_window(as_of, args.window_weeks)
    history = daily_series(counts, start, end)
    result: dict = {
        "team": args.team,
        "as_of": as_of.isoformat(),
        "history": {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "items": sum(history),
            "days": len(history),
        },
        "trials": args.trials,
        "seed": args.seed,
    }
    if args.items is not None:
        days = days_to_finish(history, args.items, args.trials, args.seed)
        result["question"] = f"when will {args.items} items be done"
        result["answers"] = {
            f"{int(c * 100)}%": {"days": d, "date": (as_of + timedelta(days=d - 1)).isoformat()}
            for c, d in days.items()
        }
    else:
        by = date.fromisoformat(args.by)
        horizon = (by - as_of).days + 1
        if horizon < 1:
            raise ForecastError(f"--by {by} is not after the forecast's first day {as_of}")
        found = items_by(history, horizon, args.trials, args.seed)
        result["question"] = f"how many items by {by} ({horizon} days)"
        result["answers"] = {f"{int(c * 100)}%": {"items": n} for c, n in found.items()}
    if not args.no_backtest and first is not None:
        test = backtest(counts, first, as_of, args.window_weeks, 8, min(args.trials, 2000), args.seed)
        result["backtest"] = {
            "horizon_days": test.horizon_days,
            "origins": test.origins,
            "hits": test.hits,
            "hit_rate_85": test.hit_rate,
        }
    return result


def render(result: dict) -> str:
    h = result["history"]
    lines = [
        f"Forecast for {result['team']}: {result['question']}",
        f"from {h['items']} items finished in {h['days']} days ({h['start']} – {h['end']}, exclusive), "
        f"{result['trials']} trials, seed {result['seed']}; day 1 is {result['as_of']}",
    ]
    for confidence, answer in result["answers"].items():
        if "days" in answer:
            lines.append(f"  {confidence:>4} confident: within {answer['days']} days, by {answer['date']}")
        else:
            lines.append(f"  {confidence:>4} confident: at least {answer['items']} items")
    test = result.get("backtest")
    if test:
        if test["origins"]:
            lines.append(
                f"Backtest: the 85% forecast of the next {test['horizon_days']} days was reached "
                f"{test['hits']} of {test['origins']} times ({test['hit_rate_85']:.0%})."
            )
        else:
            lines.append("Backtest: not enough history yet.")
    return "\n".join(lines)


def cmd_forecast(args: argparse.Namespace) -> int:
    from orchestration.query import NotPublished, published_connection

    settings = load_settings()
    try:
        with published_connection(settings.published, settings.warehouse) as con:
            result = run_forecast(con, args)
    except NotPublished as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except ForecastError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2) if args.json else render(result))
    return 0


def add_forecast_parser(sub) -> None:
    forecast = sub.add_parser(
        "forecast",
        help="Monte Carlo forecast: when N items will be done, or how many by a date",
        description=(
            "Monte Carlo forecast from the team's daily throughput (items finished, not canceled)\n"
            "over the last complete weeks, at 50 / 85 / 95 % confidence, with a backtest of the\n"
            "method on the team's own past (share of 8-week forecasts at 85 % that were reached)."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    forecast.add_argument("--team", required=True, help="team id")
    question = forecast.add_mutually_exclusive_group(required=True)
    question.add_argument("--items", type=int, metavar="N", help="when will N items be done")
    question.add_argument("--by", metavar="DATE", help="how many items by DATE (YYYY-MM-DD, inclusive)")
    forecast.add_argument(
        "--window-weeks",
        type=int,
        default=DEFAULT_WINDOW_WEEKS,
        help="complete weeks of history (default 12)",
    )
    forecast.add_argument("--trials", type=int, default=DEFAULT_TRIALS, help="trials (default 10000)")
    forecast.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default 42)")
    forecast.add_argument(
        "--as-of", metavar="DATE", help="first forecast day (default: the day after the newest data)"
    )
    forecast.add_argument("--no-backtest", action="store_true", help="skip the backtest")
    forecast.add_argument("--json", action="store_true", help="print the result as JSON")
    forecast.set_defaults(func=cmd_forecast)


__all__ = ["CONFIDENCES", "add_forecast_parser", "cmd_forecast", "render", "run_forecast"]
