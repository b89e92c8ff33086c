"""Automation: the daily schedule, the landing-folder sensor, the failure alert, and the
instance settings they rely on (dagster.yaml, dagster.production.yaml)."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from ingestion.config import ConfigError
from orchestration.defs.jobs import ALL_JOB_NAME
from orchestration.defs.schedules import CRON_VAR, TZ_VAR, daily_schedule
from orchestration.defs.sensors import (
    FAILURE_SENSOR_NAME,
    LANDING_SENSOR_NAME,
    AlertDeliveryError,
    failure_alert_sensor,
    landing_files_sensor,
    post_alert,
)

REPO = Path(__file__).resolve().parent.parent
SECRET_PATH = "/services/T000/B000/not-a-real-secret"

# -- schedule -------------------------------------------------------------------------


def test_schedule_defaults_to_six_utc_and_stays_off():
    schedule = daily_schedule({})
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 6 * * *", "UTC")
    assert schedule.job_name == ALL_JOB_NAME
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED


def test_schedule_cron_and_time_zone_come_from_the_environment():
    schedule = daily_schedule({CRON_VAR: "30 5 * * 1-5", TZ_VAR: "Europe/Paris"})
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("30 5 * * 1-5", "Europe/Paris")
    context = dg.build_schedule_context(scheduled_execution_time=None)
    data = schedule.evaluate_tick(context)
    assert [r.tags.get("productops/trigger") for r in data.run_requests] == ["schedule"]


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({CRON_VAR: "every day at six"}, CRON_VAR),
        ({CRON_VAR: "0 6 * *"}, CRON_VAR),
        ({TZ_VAR: "Mars/Olympus_Mons"}, TZ_VAR),
    ],
)
def test_bad_schedule_settings_fail_loudly_naming_the_variable(env, named):
    with pytest.raises(ConfigError, match=named):
        daily_schedule(env)


def test_definitions_register_schedule_and_both_sensors():
    from orchestration.definitions import defs

    assert defs.resolve_schedule_def("productops_daily").job_name == ALL_JOB_NAME
    landing = defs.resolve_sensor_def(LANDING_SENSOR_NAME)
    assert landing.job_name == ALL_JOB_NAME
    assert landing.default_status == dg.DefaultSensorStatus.STOPPED
    failure = defs.resolve_sensor_def(FAILURE_SENSOR_NAME)
    assert failure.default_status == dg.DefaultSensorStatus.RUNNING


# -- landing-folder sensor ------------------------------------------------------------


@pytest.fixture
def landing(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "landing"
    (root / "usage").mkdir(parents=True)
    (root / "surveys").mkdir()
    for name in ("JIRA_BASE_URL", "JIRA_API_TOKEN", "GITHUB_REPOS", "OKTA_ORG_URL", "LINEAR_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PRODUCTOPS_DEMO_DIR", str(tmp_path / "demo"))
    monkeypatch.setenv("PRODUCTOPS_LANDING_DIR", str(root))
    monkeypatch.setenv("PRODUCTOPS_SALT", "sensor-test-salt")  # exports in the folder: not the demo
    monkeypatch.setenv("PRODUCTOPS_LANDING_SETTLE_SECONDS", "0")
    return root


def _tick(cursor: str | None) -> dg.SensorResult:
    with dg.instance_for_test() as instance:
        return landing_files_sensor(dg.build_sensor_context(cursor=cursor, instance=instance))


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_landing_sensor_starts_one_run_per_new_or_changed_set_of_files(landing):
    first = _tick(None)
    assert first.run_requests == [] and first.skip_reason is not None
    assert json.loads(first.cursor) == {}

    events = landing / "usage" / "events-2026-11.jsonl"
    events.write_text('{"timestamp": "2026-11-02T09:00:00+01:00"}\n')
    second = _tick(first.cursor)
    [request] = second.run_requests
    assert request.tags["productops/trigger"] == "landing"
    assert request.tags["productops/changed_files"] == "1"
    assert set(json.loads(second.cursor)) == {"usage/events-2026-11.jsonl"}

    # Nothing changed: no run.
    third = _tick(second.cursor)
    assert third.run_requests == [] and third.cursor == second.cursor

    # The file grows and a survey export arrives: one run for both, under a new run key.
    with events.open("a") as fh:
        fh.write('{"timestamp": "2026-11-03T09:00:00+01:00"}\n')
    (landing / "surveys" / "pulse-2026-Q4.csv").write_text("Timestamp,Team\n")
    fourth = _tick(third.cursor)
    [again] = fourth.run_requests
    assert again.tags["productops/changed_files"] == "2"
    assert again.run_key != request.run_key

    # A deleted file starts nothing and leaves the cursor.
    events.unlink()
    fifth = _tick(fourth.cursor)
    assert fifth.run_requests == []
    assert set(json.loads(fifth.cursor)) == {"surveys/pulse-2026-Q4.csv"}


def test_landing_sensor_waits_for_files_still_being_written(landing, monkeypatch):
    monkeypatch.setenv("PRODUCTOPS_LANDING_SETTLE_SECONDS", "300")
    fresh = landing / "usage" / "events-2026-12.jsonl"
    fresh.write_text("{}\n")
    (landing / "usage" / ".events-2026-12.jsonl.swp").write_text("x")
    (landing / "usage" / "upload.csv.part").write_text("x")
    (landing / "elsewhere.csv").write_text("x")  # neither surveys/ nor usage/

    assert _tick(None).run_requests == []
    _age(fresh, 600)
    result = _tick(None)
    assert [r.tags["productops/changed_files"] for r in result.run_requests] == ["1"]
    assert set(json.loads(result.cursor)) == {"usage/events-2026-12.jsonl"}


def test_landing_sensor_reports_a_configuration_error_without_leaking_secrets(landing, monkeypatch):
    # A live source without the salt: the sensor skips and says why; the token stays out.
    monkeypatch.setenv("JIRA_BASE_URL", "https://example.atlassian.net")
    monkeypatch.setenv("JIRA_API_TOKEN", "tok-very-secret")
    monkeypatch.delenv("PRODUCTOPS_SALT", raising=False)
    (landing / "usage" / "events.jsonl").write_text("{}\n")
    result = _tick(None)
    assert isinstance(result, dg.SkipReason)
    assert "PRODUCTOPS_SALT" in result.skip_message
    assert "tok-very-secret" not in result.skip_message


def test_code_location_loads_without_reading_settings_or_secrets(tmp_path):
    # Settings that would fail if read (a broken TOML; a live source without its salt),
    # a webhook and a bad settle time: the code location still loads, since nothing
    # reads them before a tick or a run.
    broken = tmp_path / "productops.toml"
    broken.write_text("[pipeline\nthis is not toml")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PRODUCTOPS_", "JIRA_", "GITHUB_"))},
        "PRODUCTOPS_CONFIG": str(broken),
        "JIRA_BASE_URL": "https://example.atlassian.net",
        "JIRA_API_TOKEN": "tok-very-secret",
        "PRODUCTOPS_ALERT_WEBHOOK_URL": "http://127.0.0.1:9" + SECRET_PATH,
        "PRODUCTOPS_LANDING_SETTLE_SECONDS": "not a number",
        "DO_NOT_TRACK": "1",
    }
    loaded = subprocess.run(
        [sys.executable, "-c", "from orchestration.definitions import defs; print(len(defs.sensors))"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert loaded.stdout.strip() == "2"


# -- failure alert --------------------------------------------------------------------


@pytest.fixture
def webhook():
    """A webhook receiver on 127.0.0.1 (a Slack incoming webhook stands in the same way)."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture(scope="module")
def failed_run():
    """A small real run that fails the way the pipeline does: a blocking gate stops it."""

    @dg.asset(key=["usage", "events"])
    def raw_events():
        return 1

    @dg.asset_check(asset=raw_events, blocking=True)
    def rejected_share_within_threshold():
        return dg.AssetCheckResult(
            passed=False, description="raw usage: 412 of 9050 records rejected (4.55%)"
        )

    @dg.asset(deps=[raw_events], key=["marts", "adoption_weekly"])
    def adoption_weekly():
        return 2

    job = dg.define_asset_job(ALL_JOB_NAME, selection=dg.AssetSelection.all())
    defs = dg.Definitions(
        assets=[raw_events, adoption_weekly], asset_checks=[rejected_share_within_threshold], jobs=[job]
    )
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def(ALL_JOB_NAME).execute_in_process(
            instance=instance, raise_on_error=False, tags={"dagster/schedule_name": "productops_daily"}
        )
        assert not result.success
        yield instance, result


def _evaluate_failure_sensor(instance, result):
    context = dg.build_run_status_sensor_context(
        sensor_name=FAILURE_SENSOR_NAME,
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=result.get_run_failure_event(),
    )
    return failure_alert_sensor(context)


def test_failure_alert_posts_failed_gate_and_step_to_the_webhook(failed_run, webhook, monkeypatch, capsys):
    instance, result = failed_run
    webhook.expect_oneshot_request(SECRET_PATH, method="POST").respond_with_data("ok")
    monkeypatch.setenv("PRODUCTOPS_ALERT_WEBHOOK_URL", webhook.url_for(SECRET_PATH))
    monkeypatch.setenv("PRODUCTOPS_UI_URL", "https://dagster.example.internal/")
    _evaluate_failure_sensor(instance, result)

    [(request, _)] = webhook.log
    body = request.get_json()
    assert set(body) == {"text"}
    text = body["text"]
    run_id = result.dagster_run.run_id
    assert f"run {run_id[:8]}" in text and "(trigger: productops_daily)" in text
    assert "Failed gates:\n• usage/events rejected_share_within_threshold: raw usage: 412 of 9050" in text
    assert (
        "Failed steps:\n• usage__events_rejected_share_within_threshold: DagsterAssetCheckFailedError: "
        "1 blocking asset check failed with ERROR severity: usage/events: rejected_share_within_threshold"
    ) in text
    assert "Published marts were left unchanged." in text
    assert text.endswith(f"https://dagster.example.internal/runs/{run_id}")
    # The same report is in the tick's log; the webhook URL (a secret) is in neither.
    logged = capsys.readouterr().err
    assert "Failed gates:\n• usage/events rejected_share_within_threshold" in logged
    assert "alert posted to the webhook at 127.0.0.1" in logged
    assert SECRET_PATH not in logged and SECRET_PATH not in text


def test_failure_alert_without_webhook_only_logs(failed_run, webhook, monkeypatch, capsys):
    instance, result = failed_run
    monkeypatch.delenv("PRODUCTOPS_ALERT_WEBHOOK_URL", raising=False)
    _evaluate_failure_sensor(instance, result)
    assert webhook.log == []
    logged = capsys.readouterr().err
    assert "Failed gates:" in logged and "alert posted" not in logged


def test_refused_alert_fails_loudly_without_revealing_the_url(webhook, caplog):
    webhook.expect_request(SECRET_PATH, method="POST").respond_with_response(Response("no", status=500))
    with pytest.raises(AlertDeliveryError) as refused, caplog.at_level(logging.DEBUG):
        post_alert(webhook.url_for(SECRET_PATH), "hello", timeout=5)
    # (werkzeug is the receiving server here: its access log is the webhook owner's side.)
    ours = [r for r in caplog.records if r.name != "werkzeug"]
    assert not [r for r in ours if "not-a-real-secret" in r.getMessage()]
    assert "HTTP 500" in str(refused.value) and "127.0.0.1" in str(refused.value)
    assert "not-a-real-secret" not in str(refused.value)
    # 429/5xx are retried twice before giving up.
    assert len(webhook.log) == 3


def test_unreachable_webhook_fails_without_revealing_the_url(caplog):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(AlertDeliveryError) as unreachable, caplog.at_level(logging.DEBUG):
        post_alert(f"http://127.0.0.1:{port}{SECRET_PATH}", "hello", timeout=2)
    # urllib3 would log each retry with the path; none of it may reach a log.
    assert not [r for r in caplog.records if "not-a-real-secret" in r.getMessage()]
    assert "unreachable" in str(unreachable.value)
    assert "not-a-real-secret" not in str(unreachable.value)


# -- instance settings ----------------------------------------------------------------


def _instance_config(tmp_path: Path, source: str) -> dict:
    from dagster._core.instance.config import dagster_instance_config

    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text((REPO / source).read_text())
    config, _ = dagster_instance_config(str(home))
    return config


def test_local_instance_keeps_sqlite_under_its_home_and_serialises_the_writer(tmp_path):
    config = _instance_config(tmp_path, "dagster.yaml")
    assert config["telemetry"] == {"enabled": False}
    assert config["concurrency"]["pools"] == {"default_limit": 1, "granularity": "op"}
    assert config["concurrency"]["runs"]["max_concurrent_runs"] == 1
    home = tmp_path / "home"
    with dg.DagsterInstance.from_config(str(home)) as instance:
        pool = instance.get_concurrency_config().pool_config
        assert (pool.default_pool_limit, pool.pool_granularity.value) == (1, "op")
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"
        assert instance.get_runs() == []
    assert (home / "history" / "runs.db").exists()


def test_production_instance_reads_postgres_from_the_environment(tmp_path, monkeypatch):
    config = _instance_config(tmp_path, "dagster.production.yaml")
    postgres = config["storage"]["postgres"]["postgres_db"]
    assert postgres["password"] == {"env": "DAGSTER_PG_PASSWORD"}
    assert postgres["hostname"] == {"env": "DAGSTER_PG_HOST"}
    assert config["concurrency"]["pools"] == {"default_limit": 1, "granularity": "op"}
    assert config["telemetry"] == {"enabled": False}
    assert "dagster-postgres==0.29.27" in (REPO / "docs" / "production.md").read_text()
