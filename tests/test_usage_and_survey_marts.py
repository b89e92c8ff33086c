"""From source formats to marts: usage logs, Okta and Typeform landed by the real
connectors, then `dbt build` on that warehouse; every number worked out by hand.

Landed (see tests/fixtures/{usage,okta,typeform}/ and the seeds below):

* usage logs (UTC days): ann Jira 03-28 (23:30 at +01:00) and 04-01; bob Figma
  03-29 and 04-01; frank Slack 03-29; hana and ivan Notion 05-04; Segment: ann
  Miro 05-06, bob Figma 05-06 (01:30 at +02:00 on the 7th), an anonymousId
  (nobody on the roster); Miro audit log: carol 05-07, dave 05-08 (23:59:59 at
  −01:00 on the 7th).
* Okta SSO: ann Figma 03-05 and 03-06 (her failed attempt on 03-06 does not
  count; her login in capitals still matches), bob Jira 03-05 (AppInstance
  second in target[]), dave Figma 03-06 as dave.old@ and 03-07 as Dave@ (one
  actor.id: both count for his current login). Salesforce (not a catalogued
  tool) and an Okta sign-in do not count.
* Typeform wave 2026-Q3 (workload 0–4, tooling 1–5, eNPS 0–10):
  payments, 5 respondents of 6 (exactly the anonymity threshold: shown)
      ann   w4 t5 → 100     nps 10 promoter
      bob   w2 t3 → 50      nps 9  promoter
      carol w3 –  → 75      nps 10 promoter
      dave  w1 t2 → 25      nps 6  detractor (his later submission)
      erin  w2 t5 → 75      –      (no answer: not counted in eNPS)
    satisfaction (100 + 50 + 75 + 25 + 75) / 5 = 65; eNPS (3 − 1) / 4 = 50 %;
    response rate 5 / 6.
  platform, 4 respondents of 5: suppressed (scores null); response rate 0.8.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest
from pytest_httpserver import HTTPServer

from ingestion.config import Secret, SurveyMapping, UsageMapping
from ingestion.http.session import SourceSession, default_retry
from ingestion.loader import RawLoader
from ingestion.sources.okta import OktaConnector
from ingestion.sources.surveys import land_surveys
from ingestion.sources.surveys.typeform import TypeformConnector
from ingestion.sources.usage_logs import land_usage_logs, usage_file_mappings

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
SALT = "marts-test-salt-7c1e"

TEAMS = """team_id,team_name,time_zone
payments,Payments,Europe/Paris
platform,Platform,America/New_York
"""
ROSTER = """email,team_id,role,valid_from,valid_to,github_login,jira_account_id
ann@example.com,payments,engineer,2026-01-01,,,
bob@example.com,payments,engineer,2026-01-01,,,
carol@example.com,payments,designer,2026-01-01,,,
dave@example.com,payments,engineer,2026-01-01,,,
erin@example.com,payments,engineer,2026-01-01,,,
lena@example.com,payments,product manager,2026-01-01,,,
frank@example.com,payments,engineer,2026-01-01,2026-06-30,,
hana@example.com,payments,analyst,2026-01-01,2026-07-01,,
gina@example.com,platform,engineer,2026-01-01,,,
hank@example.com,platform,engineer,2026-01-01,,,
ivan@example.com,platform,engineer,2026-01-01,,,
judy@example.com,platform,manager,2026-01-01,,,
kim@example.com,platform,engineer,2026-01-01,,,
"""
TOOLS = """tool_id,tool_name,aliases,rollout_date
jira,Jira,Jira|Jira Software,2026-01-01
figma,Figma,Figma|Figma Design,2026-01-01
slack,Slack,,2026-01-01
notion,Notion,,2026-01-01
miro,Miro,Miro Boards,2026-04-01
"""
USAGE_TOML = """
[[usage_files]]
files = "segment-*.jsonl*"
user_email = ["userId", "anonymousId"]
tool = "properties.tool"
event_id = "messageId"
only = { type = "track" }

[[usage_files]]
files = "miro-audit-*.csv"
timestamp = "Date"
user_email = "Actor email"
event = "Action"
event_id = "Event ID"
tool_name = "Miro"
"""
PULSE = SurveyMapping.from_dict(
    {
        "id": "pulse_tf",
        "format": "typeform",
        "form_id": "Xk3pQ9",
        "wave_pattern": r"(\d{4}-Q[1-4])",
        "respondent_question": "email",
        "team_question": "team",
        "recommend_question": "enps",
        "likert": [{"id": "workload", "question": "workload"}, {"id": "tooling", "question": "tooling"}],
    }
)


def person(email: str) -> str:
    """dbt's pseudonymize macro: md5(salt || lower(email))."""
    return hashlib.md5((SALT + email).encode()).hexdigest()


def _serve(server: HTTPServer) -> None:
    """Okta: three pages chained by `after`, the last one empty (polling end);
    Typeform: the form and one page of responses, then an empty one."""
    logs = server.url_for("/api/v1/logs")
    pages = [(FIXTURES / "okta" / f"logs-page-{n}.json").read_text() for n in (1, 2, 3)]
    for after, page, following in (("p1", pages[1], "p2"), ("p2", pages[2], "p2"), (None, pages[0], "p1")):
        query = {"after": after} if after else None  # the specific ones first: first match wins
        server.expect_request("/api/v1/logs", query_string=query).respond_with_data(
            page, content_type="application/json", headers={"link": f'<{logs}?after={following}>; rel="next"'}
        )
    typeform = FIXTURES / "typeform"
    server.expect_request("/forms/Xk3pQ9/responses", query_string={"page_size": "1000"}).respond_with_data(
        (typeform / "pulse-responses.json").read_text(), content_type="application/json"
    )
    server.expect_request("/forms/Xk3pQ9/responses").respond_with_json({"total_items": 12, "items": []})
    server.expect_request("/forms/Xk3pQ9").respond_with_data(
        (typeform / "pulse-form.json").read_text(), content_type="application/json"
    )


def _land(warehouse: Path, landing: Path, server: HTTPServer, config: Path) -> None:
    def session(source: str) -> SourceSession:
        return SourceSession(source, server.url_for("/"), retry=default_retry(total=1, backoff_factor=0.01))

    with duckdb.connect(str(warehouse)) as con:
        loader = RawLoader(con, "run-1")
        land_usage_logs(
            con,
            loader,
            landing / "usage",
            UsageMapping(),
            file_mappings=usage_file_mappings(config, UsageMapping()),
        )
        loader.land("okta", "system_log", OktaConnector(session("okta")).log_pages(None))
        land_surveys(
            con,
            loader,
            landing / "surveys",
            (PULSE,),
            Secret(SALT),
            typeform=TypeformConnector(session("tf")),
        )


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("marts")
    usage = work / "landing" / "usage"
    usage.mkdir(parents=True)
    for name in (
        "events-2026-03.jsonl",
        "events-2026-04.jsonl",
        "events-2026-05.csv",
        "segment-2026-05.jsonl",
        "miro-audit-2026-05.csv",
    ):
        shutil.copy(FIXTURES / "usage" / name, usage)
    config = work / "productops.toml"
    config.write_text(USAGE_TOML, encoding="utf-8")
    seeds = work / "seeds"
    shutil.copytree(Path(__file__).parent / "dbt_fixtures" / "seeds", seeds)
    for name, text in (("teams.csv", TEAMS), ("roster.csv", ROSTER), ("tools.csv", TOOLS)):
        (seeds / name).write_text(text, encoding="utf-8")

    warehouse = work / "productops.duckdb"
    server = HTTPServer(host="127.0.0.1")
    server.start()
    try:
        _serve(server)
        _land(warehouse, work / "landing", server, config)
    finally:
        server.clear()
        server.stop()

    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "PRODUCTOPS_WAREHOUSE": str(warehouse),
        "PRODUCTOPS_SEEDS_DIR": str(seeds),
        "PRODUCTOPS_SALT": SALT,
        "PRODUCTOPS_ANONYMITY_THRESHOLD": "5",
    }
    project = REPO_ROOT / "dbt_project"
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            "build",
            "--select",
            "+fct_tool_usage_daily",
            "+adoption_weekly",
            "+fct_survey_responses",
            "+satisfaction_by_wave",
            "--exclude",
            "test_type:unit",
            "--indirect-selection",
            "cautious",  # only the tests of what is built here
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    return warehouse


@pytest.fixture(scope="module")
def con(built):
    with duckdb.connect(str(built), read_only=True) as c:
        yield c


def rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


# -- adoption ------------------------------------------------------------------------


def test_tool_usage_per_person_and_utc_day(con):
    got = rows(
        con,
        "select person_id, tool_id, usage_date, team_id, events, sso_events, log_events"
        " from marts.fct_tool_usage_daily order by usage_date, tool_id, person_id",
    )
    want = [
        ("ann", "figma", date(2026, 3, 5), "payments", 1, 1, 0),
        ("bob", "jira", date(2026, 3, 5), "payments", 1, 1, 0),  # 23:30 UTC, the 6th in Paris
        ("ann", "figma", date(2026, 3, 6), "payments", 1, 1, 0),  # the failed attempt is not a use
        ("dave", "figma", date(2026, 3, 6), "payments", 1, 1, 0),  # as dave.old@: same actor.id
        ("dave", "figma", date(2026, 3, 7), "payments", 1, 1, 0),
        ("ann", "jira", date(2026, 3, 28), "payments", 1, 0, 1),
        ("bob", "figma", date(2026, 3, 29), "payments", 1, 0, 1),
        ("frank", "slack", date(2026, 3, 29), "payments", 1, 0, 1),
        ("ann", "jira", date(2026, 4, 1), "payments", 1, 0, 1),
        ("bob", "figma", date(2026, 4, 1), "payments", 1, 0, 1),
        ("hana", "notion", date(2026, 5, 4), "payments", 1, 0, 1),
        ("ivan", "notion", date(2026, 5, 4), "platform", 1, 0, 1),
        ("bob", "figma", date(2026, 5, 6), "payments", 1, 0, 1),
        ("ann", "miro", date(2026, 5, 6), "payments", 1, 0, 1),
        ("carol", "miro", date(2026, 5, 7), "payments", 1, 0, 1),
        ("dave", "miro", date(2026, 5, 8), "payments", 1, 0, 1),
    ]
    expected = sorted(
        [(person(f"{p}@example.com"), *rest) for p, *rest in want], key=lambda r: (r[2], r[1], r[0])
    )
    assert got == expected


def test_active_users_per_tool_per_utc_day(con):
    got = rows(
        con,
        "select tool_id, usage_date, count(distinct person_id) from marts.fct_tool_usage_daily"
        " group by all order by 1, 2",
    )
    assert got == [
        ("figma", date(2026, 3, 5), 1),
        ("figma", date(2026, 3, 6), 2),
        ("figma", date(2026, 3, 7), 1),
        ("figma", date(2026, 3, 29), 1),
        ("figma", date(2026, 4, 1), 1),
        ("figma", date(2026, 5, 6), 1),
        ("jira", date(2026, 3, 5), 1),
        ("jira", date(2026, 3, 28), 1),
        ("jira", date(2026, 4, 1), 1),
        ("miro", date(2026, 5, 6), 1),  # the anonymousId is nobody on the roster
        ("miro", date(2026, 5, 7), 1),
        ("miro", date(2026, 5, 8), 1),
        ("notion", date(2026, 5, 4), 2),
        ("slack", date(2026, 3, 29), 1),
    ]


def test_weekly_adoption(con):
    got = rows(
        con,
        "select team_id, tool_id, week_start, active_users, headcount, adoption_rate"
        " from marts.adoption_weekly"
        " where (team_id, tool_id, week_start) in"
        " (('payments', 'figma', date '2026-03-02'), ('platform', 'notion', date '2026-05-04'),"
        "  ('payments', 'miro', date '2026-05-04'), ('payments', 'slack', date '2026-03-30'))"
        " order by 1, 2",
    )
    assert got == [
        # ann and dave, of the 8 on the roster that week (frank and hana had not left yet)
        ("payments", "figma", date(2026, 3, 2), 2, 8, pytest.approx(2 / 8)),
        ("payments", "miro", date(2026, 5, 4), 3, 8, pytest.approx(3 / 8)),
        ("payments", "slack", date(2026, 3, 30), 0, 8, 0.0),
        ("platform", "notion", date(2026, 5, 4), 1, 5, pytest.approx(1 / 5)),
    ]


# -- satisfaction ------------------------------------------------------------------


def test_satisfaction_enps_response_rate_and_suppression(con):
    got = rows(
        con,
        "select team_id, survey_wave, wave_date, respondents, headcount, response_rate,"
        " satisfaction_score, enps, is_suppressed from marts.satisfaction_by_wave order by 1",
    )
    assert got == [
        # the organisation: everyone's counts (5 + 4 of 6 + 5), but scores from the shown
        # team's answers only, so nothing can be told about platform by difference
        ("__all__", "2026-Q3", date(2026, 8, 3), 9, 11, pytest.approx(9 / 11), pytest.approx(65.0),
         pytest.approx(50.0), False),
        # exactly at the threshold (5): shown
        ("payments", "2026-Q3", date(2026, 8, 3), 5, 6, pytest.approx(5 / 6), pytest.approx(65.0),
         pytest.approx(50.0), False),
        # one under it: suppressed, scores null, the response rate still shown
        ("platform", "2026-Q3", date(2026, 8, 3), 4, 5, pytest.approx(0.8), None, None, True),
    ]  # fmt: skip


def test_survey_responses_are_scored_per_response(con):
    got = rows(
        con,
        "select respondent_key, team_id, satisfaction_score, enps_score, enps_category"
        " from marts.fct_survey_responses where team_id = 'payments' order by satisfaction_score desc",
    )
    from ingestion.pseudonyms import respondent_key

    def key(email: str) -> str:
        return respondent_key(Secret(SALT), "pulse_tf", email)

    assert got == [
        (key("ann@example.com"), "payments", 100.0, 10.0, "promoter"),
        (key("carol@example.com"), "payments", 75.0, 10.0, "promoter"),
        (key("erin@example.com"), "payments", 75.0, None, None),
        (key("bob@example.com"), "payments", 50.0, 9.0, "promoter"),
        (key("dave@example.com"), "payments", 25.0, 6.0, "detractor"),
    ]
    # the anonymous "Data Science" answer has no team; 10 responses in all
    assert rows(con, "select count(*), count(team_id) from marts.fct_survey_responses") == [(10, 9)]


# -- quarantine ------------------------------------------------------------------------


def test_every_quarantined_record_with_its_reason(con):
    got = rows(
        con,
        "select source, regexp_replace(locator, '^http://[^/]+', ''), reason"
        " from raw.rejected_records order by 1, 2",
    )
    assert got == [
        ("okta", "/api/v1/logs?after=p1#page=2", "event unreadable: field 'published': missing"),
        ("surveys", "typeform/Xk3pQ9:6",
         'typeform/Xk3pQ9:6: answer to "workload" is outside the scale 0–4: 6'),
        ("usage", "usage/events-2026-03.jsonl:10", 'timestamp is not an ISO 8601 date-time: "yesterday"'),
        ("usage", "usage/events-2026-03.jsonl:4", 'timestamp has no UTC offset: "2026-03-29T09:00:00"'),
        ("usage", "usage/events-2026-03.jsonl:5", "invalid JSON"),
        ("usage", "usage/events-2026-03.jsonl:7", "missing required field: event"),
        ("usage", "usage/events-2026-03.jsonl:9", "not a JSON object"),
        ("usage", "usage/events-2026-04.jsonl:3", 'timestamp has no UTC offset: "2026-04-01T12:10:00"'),
        ("usage", "usage/events-2026-05.csv:4", "expected 5 CSV fields, found 3"),
        ("usage", "usage/miro-audit-2026-05.csv:4", "missing required field: Actor email"),
        ("usage", "usage/segment-2026-05.jsonl:7", "missing required field: userId or anonymousId"),
        ("usage", "usage/segment-2026-05.jsonl:8", 'timestamp has no UTC offset: "2026-05-07T10:00:00"'),
        ("usage", "usage/segment-2026-05.jsonl:9", "missing required field: properties.tool"),
    ]  # fmt: skip
