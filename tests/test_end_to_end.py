"""The whole demo pipeline, for real: extract → land → gates → dbt → publish."""

from __future__ import annotations

import duckdb
import pytest

from orchestration.cli import main

# Each public mart and the columns that make its grain.
MART_KEYS = {
    "dim_teams": ["team_id"],
    "dim_people": ["person_id"],
    "dim_tools": ["tool_id"],
    "fct_work_items": ["source", "work_item_id"],
    "fct_status_changes": ["source", "work_item_id", "changed_at", "from_category", "to_category"],
    "fct_tool_usage_daily": ["person_id", "tool_id", "usage_date"],
    "fct_survey_responses": ["survey_wave", "respondent_key"],
    "fct_improvement_actions": ["work_item_id"],
    "delivery_weekly": ["team_id", "week_start"],
    "adoption_weekly": ["team_id", "tool_id", "week_start"],
    "satisfaction_by_wave": ["team_id", "survey_wave"],
    "improvement_monthly": ["team_id", "month_start"],
    "team_scorecard_monthly": ["team_id", "month_start"],
    "sprint_predictability": ["sprint_id"],
    "adoption_monthly": ["team_id", "tool_id", "month_start"],
    "tool_adoption_by_team": ["team_id", "tool_id"],
    "tool_adoption": ["tool_id"],
    "wip_aging": ["source", "work_item_id"],
}


def _counts(path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('raw', 'marts') and table_name not in ('load_log', 'load_state')"
        ).fetchall()
        return {t: con.execute(f"select count(*) from {t}").fetchall()[0][0] for (t,) in tables}


@pytest.mark.e2e
def test_demo_run_publishes_every_mart_and_is_idempotent(pipeline_env, capsys):
    assert main(["run"]) == 0
    out = capsys.readouterr().out
    assert str(pipeline_env["published"]) in out and "marts.team_scorecard_monthly" in out

    published = pipeline_env["published"]
    with duckdb.connect(str(published), read_only=True) as con:
        for mart, keys in MART_KEYS.items():
            rows, distinct = con.execute(
                f"select count(*), count(distinct ({', '.join(keys)})) from marts.{mart}"
            ).fetchall()[0]
            assert rows > 0, f"marts.{mart} is empty"
            assert rows == distinct, f"marts.{mart}: {rows - distinct} duplicate keys"
        # Pull requests never become work items.
        assert con.execute(
            "select count(*) from marts.fct_work_items where work_item_key like '%pull%'"
        ).fetchall() == [(0,)]
    for mart in MART_KEYS:
        assert (published.parent / f"{mart}.parquet").exists()

    first = _counts(pipeline_env["warehouse"])
    assert main(["run"]) == 0
    second = _counts(pipeline_env["warehouse"])
    # rejected_records grows by design (each run records what it rejected).
    first.pop("raw.rejected_records", None)
    second.pop("raw.rejected_records", None)
    assert first == second
