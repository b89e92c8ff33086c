"""Targets, statuses, alerts and improvement impact: bad target rows and the demo's stories."""

from __future__ import annotations

import shutil
from datetime import date

import duckdb
import pytest

from tests.test_dbt_models import SEEDS_DIR, run_dbt

BAD_TARGETS = """scope,kpi,direction,target,at_risk_band
*,cycle_time_p85_days,lower_is_better,10,14
pyments,throughput,higher_is_better,3,2
*,cycle_time,lower_is_better,10,14
*,adoption_rate:slack,higher_is_better,0.5,0.3
*,on_time_rate,higher_is_better,0.8,0.9
payments,lead_time_p85_days,lower_is_better,20,15
*,enps,up,20,0
"""


def test_bad_target_rows_fail_a_test_that_names_each_row(tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS_DIR, seeds)
    (seeds / "kpi_targets.csv").write_text(BAD_TARGETS)
    warehouse = tmp_path / "w.duckdb"
    result = run_dbt(
        ["build", "--select", "teams", "tools", "kpi_targets", "assert_kpi_targets_are_valid"],
        warehouse,
        tmp_path,
        seeds,
    )
    assert result.returncode == 1
    assert "Failure in test assert_kpi_targets_are_valid" in result.stdout
    assert "Got 6 results" in result.stdout
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (schema,) = con.execute(
            "select table_schema from information_schema.tables "
            "where table_name = 'assert_kpi_targets_are_valid'"
        ).fetchall()[0]
        failures = [
            row[0]
            for row in con.execute(
                f"select failure from {schema}.assert_kpi_targets_are_valid order by line"
            ).fetchall()
        ]
    assert failures == [
        "kpi_targets.csv line 3 (pyments,throughput): unknown team 'pyments' "
        "(a team_id of teams.csv, * or __all__)",
        "kpi_targets.csv line 4 (*,cycle_time): unknown KPI 'cycle_time' (one of cycle_time_p85_days, "
        "lead_time_p85_days, on_time_rate, throughput, satisfaction_score, enps, response_rate, "
        "completion_rate, adoption_rate:<tool_id>)",
        "kpi_targets.csv line 5 (*,adoption_rate:slack): unknown tool 'slack' in adoption_rate:slack "
        "(a tool_id of tools.csv)",
        "kpi_targets.csv line 6 (*,on_time_rate): at_risk_band 0.9 contradicts higher_is_better: "
        "it must be at most the target 0.8",
        "kpi_targets.csv line 7 (payments,lead_time_p85_days): "
        "at_risk_band 15.0 contradicts lower_is_better: it must be at least the target 20.0",
        "kpi_targets.csv line 8 (*,enps): direction 'up' is neither higher_is_better nor lower_is_better",
    ]


@pytest.fixture(scope="module")
def demo_marts(published_demo):
    con = duckdb.connect(str(published_demo.published), read_only=True)
    yield con
    con.close()


def test_payments_cycle_time_falls_after_the_copilot_rollout(demo_marts):
    """The demo's story: payments' retro action before the rollout names cycle time; the
    weeks after it closed show a lower p85 than the weeks before it opened, and the
    weekly statuses turn from off target / at risk to on target."""
    impact = demo_marts.execute(
        "select work_item_key, kpi, value_before, value_after, n_before, n_after, difference "
        "from marts.improvement_impact where team_id = 'payments'"
    ).fetchall()
    print("\nimprovement_impact (payments):", impact)
    (_key, kpi, before, after, n_before, n_after, difference) = impact[0]
    assert len(impact) == 1 and kpi == "cycle_time_p85_days"
    assert after < before and difference < 0 and n_before >= 5 and n_after >= 5

    rollout = demo_marts.execute(
        "select rollout_date from marts.dim_tools where tool_id = 'copilot'"
    ).fetchall()[0][0]
    statuses = demo_marts.execute(
        "select period_start >= ?, status from marts.kpi_status "
        "where team_id = 'payments' and kpi = 'cycle_time_p85_days' and status <> 'no_data' and is_complete",
        [rollout],
    ).fetchall()
    before_rollout = {s for after, s in statuses if not after}
    after_rollout = [s for after, s in statuses if after]
    assert before_rollout & {"off_target", "at_risk"}
    assert after_rollout and set(after_rollout) == {"on_target"}


def test_infra_survey_participation_under_the_threshold_is_never_judged(demo_marts):
    rows = demo_marts.execute(
        "select kpi, value, sample_size, status, is_suppressed from marts.kpi_status "
        "where team_id = 'infra' and period_grain = 'wave'"
    ).fetchall()
    assert {r[0] for r in rows} == {"satisfaction_score", "enps", "response_rate"}
    assert all(r[1:] == (None, None, "no_data", True) for r in rows)
    alerts = demo_marts.execute(
        "select count(*) from marts.kpi_alerts where team_id = 'infra' and period_grain = 'wave'"
    ).fetchall()
    assert alerts == [(0,)]


def test_demo_alerts_are_latest_complete_periods_with_their_evidence(demo_marts):
    alerts = demo_marts.execute(
        "select team_id, kpi, period_label, round(value, 3), round(baseline, 3), rule, sample_size, "
        "baseline_sample_size, period_end from marts.kpi_alerts order by team_id, kpi"
    ).fetchall()
    print("\nkpi_alerts on the demo:")
    for alert in alerts:
        print("  ", alert)
    assert alerts
    # Judged as of the demo's last day (2026-11-20): no alert on the week under way.
    assert all(alert[-1] <= date(2026, 11, 20) for alert in alerts)
    statuses = dict(demo_marts.execute("select status, count(*) from marts.kpi_status group by 1").fetchall())
    assert set(statuses) == {"on_target", "at_risk", "off_target", "no_data"}
