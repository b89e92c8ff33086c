"""KPI alert notifications and the weekly digest, against real servers on 127.0.0.1:
a Slack-compatible webhook (pytest-httpserver) and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from pathlib import Path

import duckdb
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from werkzeug.wrappers import Response

from orchestration.notify.channels import EmailChannel, WebhookChannel, channels_from_env
from orchestration.notify.deliver import alert_notifications, deliver, digest_notifications
from tests.conftest import REPO, demo_run_env

TOKEN_PATH = "/services/T000/B000/SECRET-WEBHOOK-TOKEN"
SMTP_PASSWORD = "s3cret-smtp-password"


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


class _LoopbackController(Controller):
    """aiosmtpd on port 0: learn the port the system gave before the readiness probe."""

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.password == SMTP_PASSWORD.encode()
    return AuthResult(success=ok)


@pytest.fixture
def smtp_server():
    inbox = _Inbox()
    controller = _LoopbackController(
        inbox, hostname="127.0.0.1", port=0, authenticator=_authenticator, auth_require_tls=False
    )
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alert(alert_id: str, team: str = "payments") -> dict:
    return {
        "alert_id": alert_id,
        "team_id": team,
        "kpi": "cycle_time_p85_days",
        "period_start": date(2026, 11, 9),
        "period_grain": "week",
        "period_label": "2026-11-09",
        "value": 13.5,
        "baseline": 9.0,
        "rule": "cycle_time_p85_up_30pct",
        "threshold": 0.3,
        "sample_size": 6,
        "baseline_periods": 8,
        "baseline_sample_size": 44,
        "raised_at": datetime(2026, 11, 16, tzinfo=UTC),
    }


def _sent_rows(con) -> list[tuple]:
    return con.execute(
        "select notification_key, kind, channel, team_id from ops.notifications_sent order by all"
    ).fetchall()


def test_each_alert_goes_once_and_a_failure_is_retried_next_time(httpserver, smtp_server, tmp_path):
    controller, inbox = smtp_server
    calls = []
    status = {"code": 500}

    def webhook(request):
        calls.append(request.get_json())
        return Response("boom" if status["code"] >= 300 else "ok", status=status["code"])

    httpserver.expect_request(TOKEN_PATH, method="POST").respond_with_handler(webhook)
    channels = [
        WebhookChannel(httpserver.url_for(TOKEN_PATH), timeout=2),
        EmailChannel(
            "127.0.0.1", controller.port, "productops@example.com", ("lead@example.com",), timeout=2
        ),
    ]
    notes = alert_notifications([_alert("a1"), _alert("a2", "mobile")])
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        # Run 1: the webhook answers 500 (retried briefly, then left); email works.
        first = deliver(con, notes, channels, run_id="run-1")
        assert [c for c, _ in first.failed] == ["webhook"] and "HTTP 500" in first.failed[0][1]
        assert first.postponed == 1  # a2 not even tried on the failing webhook
        assert len(inbox.messages) == 2 and len(first.sent) == 2
        assert _sent_rows(con) == [("a1", "alert", "email", "payments"), ("a2", "alert", "email", "mobile")]

        # Run 2: the webhook is back: only what it missed goes, each once.
        status["code"] = 200
        calls.clear()
        second = deliver(con, notes, channels, run_id="run-2")
        assert [c["text"].splitlines()[0] for c in calls] == [
            "*KPI alert: payments · cycle_time_p85_days*",
            "*KPI alert: mobile · cycle_time_p85_days*",
        ]
        assert len(second.sent) == 2 and second.already_sent == 2 and len(inbox.messages) == 2

        # Run 3: nothing new, nothing sent, on either channel.
        calls.clear()
        third = deliver(con, notes, channels, run_id="run-3")
        assert third.sent == [] and third.already_sent == 4 and calls == [] and len(inbox.messages) == 2
        assert len(_sent_rows(con)) == 4
    mail = inbox.messages[0]
    assert mail["Subject"] == "KPI alert: payments · cycle_time_p85_days"
    assert mail["To"] == "lead@example.com"
    assert "13.5 d" in mail.get_content() and "baseline 9.0 d" in mail.get_content()


def test_smtp_login_uses_the_password_and_never_shows_it(smtp_server, tmp_path):
    controller, inbox = smtp_server
    env = {
        "PRODUCTOPS_SMTP_HOST": "127.0.0.1",
        "PRODUCTOPS_SMTP_PORT": str(controller.port),
        "PRODUCTOPS_SMTP_USER": "bot",
        "PRODUCTOPS_SMTP_PASSWORD": SMTP_PASSWORD,
        "PRODUCTOPS_SMTP_FROM": "productops@example.com",
        "PRODUCTOPS_SMTP_TO": "a@example.com, b@example.com",
    }
    (channel,) = channels_from_env(env)
    assert SMTP_PASSWORD not in repr(channel)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        assert len(deliver(con, alert_notifications([_alert("a1")]), [channel], "r").sent) == 1
    assert inbox.messages[0]["To"] == "a@example.com, b@example.com"

    wrong = EmailChannel("127.0.0.1", controller.port, "x@example.com", ("a@example.com",), "bot", "wrong", 2)
    with duckdb.connect(str(tmp_path / "w2.duckdb")) as con:
        outcome = deliver(con, alert_notifications([_alert("a1")]), [wrong], "r")
    # Refused (aiosmtpd answers 535 and, after smtplib's other mechanisms, hangs up).
    assert outcome.sent == [] and outcome.failed[0][1].startswith(
        f"SMTP server 127.0.0.1:{controller.port}: SMTP"
    )
    assert "wrong" not in outcome.failed[0][1] and len(inbox.messages) == 1


@pytest.mark.parametrize("server", ["down", "slow", "500"])
def test_a_down_slow_or_failing_server_does_not_hang(server, httpserver, tmp_path):
    if server == "slow":

        def slow(request):
            time.sleep(3)
            return Response("late")

        httpserver.expect_request(TOKEN_PATH).respond_with_handler(slow)
        url = httpserver.url_for(TOKEN_PATH)
    elif server == "500":
        httpserver.expect_request(TOKEN_PATH).respond_with_data("no", status=500)
        url = httpserver.url_for(TOKEN_PATH)
    else:
        url = f"http://127.0.0.1:{_closed_port()}{TOKEN_PATH}"
    channels = [
        WebhookChannel(url, timeout=0.5),
        EmailChannel("127.0.0.1", _closed_port(), "x@example.com", ("y@example.com",), timeout=0.5),
    ]
    notes = alert_notifications([_alert(f"a{n}") for n in range(5)])
    started = time.monotonic()
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        outcome = deliver(con, notes, channels, "r")
        assert _sent_rows(con) == []
    elapsed = time.monotonic() - started
    # One bounded attempt per channel (with the webhook's brief retries), not one per alert.
    assert elapsed < 8, elapsed
    assert {c for c, _ in outcome.failed} == {"webhook", "email"} and outcome.postponed == 8
    assert all("SECRET-WEBHOOK-TOKEN" not in reason for _, reason in outcome.failed)


def test_channels_come_from_the_environment_only_when_set():
    assert channels_from_env({}) == []
    with pytest.raises(ValueError, match="PRODUCTOPS_SMTP_FROM and PRODUCTOPS_SMTP_TO"):
        channels_from_env({"PRODUCTOPS_SMTP_HOST": "mail.example.com"})
    (webhook,) = channels_from_env({"PRODUCTOPS_ALERT_WEBHOOK_URL": "https://hooks.example.com" + TOKEN_PATH})
    assert "SECRET" not in repr(webhook) and webhook.where == "webhook at hooks.example.com"


def _logs_and_warehouse_text(run_root: Path, proc: subprocess.CompletedProcess) -> str:
    texts = [proc.stdout, proc.stderr]
    texts += [p.read_text(errors="replace") for p in run_root.rglob("*.log")]
    texts += [p.read_text(errors="replace") for p in run_root.rglob("*.json")]
    with duckdb.connect(str(run_root / "warehouse" / "productops.duckdb"), read_only=True) as con:
        for schema, table in con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database()"
        ).fetchall():
            texts.append(str(con.execute(f'select * from "{schema}"."{table}"').fetchall()))
    return "\n".join(texts)


@pytest.mark.e2e
def test_pipeline_publishes_despite_failing_channels_then_sends_alerts_once(
    httpserver, smtp_server, tmp_path, demo_org
):
    """Two real runs on the demo: the first with a webhook answering 500 and a wrong SMTP
    password publishes anyway and records nothing; the second, with nothing new to build,
    sends each alert once."""
    controller, inbox = smtp_server
    status = {"code": 500}
    bodies = []

    def webhook(request):
        bodies.append(request.get_json())
        return Response("x", status=status["code"])

    httpserver.expect_request(TOKEN_PATH, method="POST").respond_with_handler(webhook)
    smtp = {
        "PRODUCTOPS_SMTP_HOST": "127.0.0.1",
        "PRODUCTOPS_SMTP_PORT": str(controller.port),
        "PRODUCTOPS_SMTP_USER": "bot",
        "PRODUCTOPS_SMTP_FROM": "productops@example.com",
        "PRODUCTOPS_SMTP_TO": "lead@example.com",
    }
    common = {
        "PRODUCTOPS_ALERT_WEBHOOK_URL": httpserver.url_for(TOKEN_PATH),
        "PRODUCTOPS_NOTIFY_TIMEOUT_SECONDS": "2",
        **smtp,
    }

    def run(password: str) -> subprocess.CompletedProcess:
        env = demo_run_env(tmp_path, demo_org, PRODUCTOPS_SMTP_PASSWORD=password, **common)
        return subprocess.run(
            [sys.executable, "-m", "orchestration.cli", "run"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )

    first = run("not-" + SMTP_PASSWORD)
    assert first.returncode == 0, first.stderr[-3000:]
    published = tmp_path / "warehouse" / "published" / "productops.duckdb"
    with duckdb.connect(str(published), read_only=True) as con:
        alerts = con.execute(
            "select alert_id, team_id, kpi, rule from marts.kpi_alerts order by all"
        ).fetchall()
    assert alerts, "the demo raises alerts"
    with duckdb.connect(str(tmp_path / "warehouse" / "productops.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from ops.notifications_sent").fetchall() == [(0,)]
    assert inbox.messages == [] and len(bodies) >= 1

    status["code"] = 200
    bodies.clear()
    second = run(SMTP_PASSWORD)
    assert second.returncode == 0, second.stderr[-3000:]
    # Same data: the run skips dbt and publish (and the alerts step), yet retries the alerts.
    assert "[dbt] nothing new" in second.stderr
    assert len(bodies) == len(alerts) and len(inbox.messages) == len(alerts)
    with duckdb.connect(str(tmp_path / "warehouse" / "productops.duckdb"), read_only=True) as con:
        sent = con.execute(
            "select notification_key, channel from ops.notifications_sent order by all"
        ).fetchall()
    assert sent == sorted((a[0], c) for a in alerts for c in ("email", "webhook"))

    everything = _logs_and_warehouse_text(tmp_path, first) + _logs_and_warehouse_text(tmp_path, second)
    assert "SECRET-WEBHOOK-TOKEN" not in everything
    assert SMTP_PASSWORD not in everything

    # A third delivery of the same alerts, as the next run would make it: nothing goes twice.
    with duckdb.connect(str(tmp_path / "warehouse" / "productops.duckdb")) as con:
        channels = channels_from_env({**common, "PRODUCTOPS_SMTP_PASSWORD": SMTP_PASSWORD})
        from orchestration.notify.deliver import read_alerts

        again = deliver(con, alert_notifications(read_alerts(published)), channels, "run-3")
    assert again.sent == [] and len(inbox.messages) == len(alerts)


def test_weekly_digest_of_one_team_reads_well(published_demo, tmp_path, smtp_server):
    """The digest for payments, printed so it can be read in the test output."""
    controller, inbox = smtp_server
    notes = digest_notifications(published_demo.published, date(2026, 11, 23))
    payments = next(n for n in notes if n.team_id == "payments")
    print("\n" + payments.subject + "\n" + payments.text)
    assert payments.key == "digest:payments:2026-W48"
    assert "cycle_time_p85_days" in payments.text and "target ≤ 7.0 d" in payments.text
    assert "Open alerts" in payments.text
    assert {n.team_id for n in notes} >= {"payments", "infra"}
    infra = next(n for n in notes if n.team_id == "infra")
    assert "response_rate" in infra.text and "· not judged" in infra.text  # suppressed: never judged
    channel = EmailChannel("127.0.0.1", controller.port, "p@example.com", ("lead@example.com",), timeout=2)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        assert len(deliver(con, notes, [channel], "r").sent) == len(notes)
        assert deliver(con, notes, [channel], "r2").sent == []  # the same week: not sent twice
    assert len(inbox.messages) == len(notes)


def test_digest_schedule_is_monday_morning_in_the_configured_time_zone():
    from ingestion.config import ConfigError
    from orchestration.defs.notifications import DIGEST_JOB_NAME, digest_schedule

    default = digest_schedule({})
    assert (default.cron_schedule, default.execution_timezone, default.job_name) == (
        "0 8 * * 1",
        "UTC",
        DIGEST_JOB_NAME,
    )
    paris = digest_schedule({"PRODUCTOPS_DIGEST_TZ": "Europe/Paris", "PRODUCTOPS_DIGEST_CRON": "30 7 * * 1"})
    assert (paris.cron_schedule, paris.execution_timezone) == ("30 7 * * 1", "Europe/Paris")
    with pytest.raises(ConfigError, match="PRODUCTOPS_DIGEST_TZ"):
        digest_schedule({"PRODUCTOPS_DIGEST_TZ": "Mars/Olympus"})
    with pytest.raises(ConfigError, match="PRODUCTOPS_DIGEST_CRON"):
        digest_schedule({"PRODUCTOPS_DIGEST_CRON": "mondays"})


def test_digest_job_sends_each_team_once_a_week(published_demo, smtp_server, tmp_path, monkeypatch):
    """The Dagster job the schedule starts, run in process: it reads the published marts and
    records what it sent in its own warehouse (here a scratch one, not the demo's)."""
    from orchestration.definitions import defs
    from orchestration.defs.notifications import DIGEST_JOB_NAME

    controller, inbox = smtp_server
    for name, value in {
        "PRODUCTOPS_DEMO_DIR": published_demo.env["PRODUCTOPS_DEMO_DIR"],
        "PRODUCTOPS_PUBLISHED": str(published_demo.published),
        "PRODUCTOPS_WAREHOUSE": str(tmp_path / "ledger.duckdb"),
        "PRODUCTOPS_SMTP_HOST": "127.0.0.1",
        "PRODUCTOPS_SMTP_PORT": str(controller.port),
        "PRODUCTOPS_SMTP_FROM": "productops@example.com",
        "PRODUCTOPS_SMTP_TO": "leads@example.com",
        "PRODUCTOPS_DIGEST_TZ": "Europe/Paris",
    }.items():
        monkeypatch.setenv(name, value)
    job = defs.resolve_job_def(DIGEST_JOB_NAME)
    assert job.execute_in_process().success
    teams = {m["Subject"].split(": ")[1].split(" (")[0] for m in inbox.messages}
    assert {"payments", "infra", "__all__"} <= teams and len(inbox.messages) == len(teams)
    assert job.execute_in_process().success  # the same week again: nothing more
    assert len(inbox.messages) == len(teams)
    with duckdb.connect(str(tmp_path / "ledger.duckdb"), read_only=True) as con:
        kinds = con.execute("select distinct kind, channel from ops.notifications_sent").fetchall()
    assert kinds == [("digest", "email")]
