"""The demo organisation generator: deterministic, real-format, and telling its stories."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import statistics
import tomllib
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from ingestion.demo import generate

RUN_DATE = date(2026, 3, 16)
SCALE = 0.2
JIRA_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$")
GITHUB_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
OKTA_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
SEED_COLUMNS = {
    "teams.csv": ["team_id", "team_name", "time_zone"],
    "roster.csv": ["email", "team_id", "role", "valid_from", "valid_to", "github_login", "jira_account_id"],
    "ownership.csv": ["source", "container", "team_id"],
    "tools.csv": ["tool_id", "tool_name", "aliases", "rollout_date"],
    "status_mapping.csv": ["source", "project", "issue_type", "raw_status", "status_category"],
    "improvement_labels.csv": ["source", "label", "kpi"],
    "kpi_targets.csv": ["scope", "kpi", "direction", "target", "at_risk_band"],
}
SURVEY_KEYS = {
    "id",
    "format",
    "files",
    "time_zone",
    "wave_from",
    "wave_pattern",
    "respondent_question",
    "team_question",
    "recommend_question",
    "recommend_scale",
    "likert",
}


# --- fixtures and helpers ---------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    generate(out, scale=SCALE, seed=42, run_date=RUN_DATE)
    return out


@pytest.fixture(scope="module")
def summary(demo: Path) -> dict[str, Any]:
    return json.loads((demo / "generator.json").read_text())


def tree(root: Path) -> dict[str, bytes]:
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return {str(p.relative_to(root)): p.read_bytes() for p in files}


def parse_instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert moment.tzinfo is not None, text
    return moment.astimezone(UTC)


def exchanges(demo: Path, source: str) -> list[dict[str, Any]]:
    lines = (demo / "api" / source / "exchanges.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def body(demo: Path, source: str, exchange: dict[str, Any]) -> Any:
    return json.loads((demo / "api" / source / exchange["body_file"]).read_text())


def replay(demo: Path, source: str, method: str, url: str, payload: dict | None = None) -> dict:
    """The exchange the recorded adapter would answer with (subset match, most specific)."""
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query))
    found = [
        e
        for e in exchanges(demo, source)
        if e["method"] == method
        and e["path"] == parts.path
        and all(params.get(k) == v for k, v in e["params"].items())
        and all((payload or {}).get(k) == v for k, v in e["json"].items())
    ]
    assert found, url
    return max(found, key=lambda e: len(e["params"]) + len(e["json"]))


def links(header: str) -> dict[str, str]:
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', header)}


def jira_issues(demo: Path) -> list[dict[str, Any]]:
    pages = sorted((demo / "api/jira/pages").glob("search-*.json"))
    return [i for p in pages for i in json.loads(p.read_text())["issues"]]


def full_histories(demo: Path, issue: dict[str, Any]) -> list[dict[str, Any]]:
    changelog = issue["changelog"]
    if changelog["total"] == len(changelog["histories"]):
        return changelog["histories"]
    values: list[dict[str, Any]] = []
    pages = sorted((demo / "api/jira/pages").glob(f"changelog-{issue['key']}-*.json"))
    for page in pages:
        values += json.loads(page.read_text())["values"]
    return values


def read_csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def seed_rows(demo: Path, name: str) -> list[dict[str, str]]:
    with (demo / "seeds" / name).open(newline="") as fh:
        return list(csv.DictReader(fh))


def usage_lines(demo: Path) -> list[tuple[str, str]]:
    out = []
    for path in sorted((demo / "landing/usage").iterdir()):
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        out += [(path.name, line) for line in data.decode().splitlines()]
    return out


def status_category(demo: Path) -> dict[tuple[str, str], str]:
    """(project, status id) -> category, seed rows first, then the status's own key."""
    defaults = {"new": "todo", "indeterminate": "in_progress", "done": "done"}
    statuses = json.loads((demo / "api/jira/pages/status.json").read_text())
    mapping = {("*", s["id"]): defaults[s["statusCategory"]["key"]] for s in statuses}
    for row in seed_rows(demo, "status_mapping.csv"):
        if row["source"] == "jira":
            mapping[(row["project"], row["raw_status"])] = row["status_category"]
    return mapping


def category(mapping: dict[tuple[str, str], str], project: str, status_id: str) -> str:
    return mapping.get((project, status_id)) or mapping[("*", status_id)]


def transitions(demo: Path, issue: dict[str, Any], mapping: dict) -> list[tuple]:
    project = issue["fields"]["project"]["key"]
    histories = sorted(full_histories(demo, issue), key=lambda h: (parse_instant(h["created"]), int(h["id"])))
    return [
        (
            parse_instant(h["created"]),
            category(mapping, project, i["from"]),
            category(mapping, project, i["to"]),
        )
        for h in histories
        for i in h["items"]
        if i["field"] == "status"
    ]


# --- determinism and volume -------------------------------------------------


def test_same_arguments_write_identical_bytes(demo: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate(again, scale=SCALE, seed=42, run_date=RUN_DATE)
    assert tree(again) == tree(demo)


def test_rerun_into_the_same_folder_leaves_no_stale_files(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "twice"
    generate(out, scale=SCALE, seed=42, run_date=date(2026, 1, 5))
    generate(out, scale=SCALE, seed=42, run_date=RUN_DATE)
    assert tree(out) == tree(demo)


def test_another_seed_writes_another_organisation(demo: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    generate(other, scale=SCALE, seed=7, run_date=RUN_DATE)
    assert (other / "seeds/roster.csv").read_bytes() != (demo / "seeds/roster.csv").read_bytes()
    assert tree(other) != tree(demo)


def test_scale_multiplies_people_and_volumes(summary: dict, tmp_path: Path) -> None:
    bigger = generate(tmp_path / "bigger", scale=2 * SCALE, seed=42, run_date=RUN_DATE)
    small, big = summary["counts"], bigger["counts"]
    for key in ("people", "jira_issues", "github_issues", "usage_events", "okta_events"):
        assert 1.5 < big[key] / small[key] < 2.6, key


def test_summary_is_what_generate_returns(demo: Path, summary: dict) -> None:
    assert summary["seed"] == 42 and summary["scale"] == SCALE
    assert summary["run_date"] == RUN_DATE.isoformat()
    assert summary["history_end"] == "2026-03-16T00:00:00Z"
    assert summary["counts"]["teams"] == 8


# --- every file parses and follows the contract -----------------------------


def test_layout_matches_the_architecture(demo: Path) -> None:
    assert (demo / "productops.toml").is_file() and (demo / "generator.json").is_file()
    assert sorted(p.name for p in (demo / "seeds").iterdir()) == sorted(SEED_COLUMNS)
    for source in ("jira", "github", "okta"):
        for exchange in exchanges(demo, source):
            assert set(exchange) == {"method", "path", "params", "json", "status", "headers", "body_file"}
            assert exchange["body_file"].startswith("pages/")
            assert all(isinstance(v, str) for v in exchange["params"].values())
            body(demo, source, exchange)  # parses
    assert {p.suffix for p in (demo / "landing/usage").iterdir()} == {".jsonl", ".gz"}


def test_seeds_have_the_documented_columns(demo: Path) -> None:
    for name, columns in SEED_COLUMNS.items():
        rows = read_csv(demo / "seeds" / name)
        assert rows[0] == columns, name
        assert len(rows) > 1 and all(len(r) == len(columns) for r in rows), name
    for row in seed_rows(demo, "roster.csv"):
        assert row["email"] == row["email"].lower()
        date.fromisoformat(row["valid_from"])
        assert not row["valid_to"] or date.fromisoformat(row["valid_to"]) > date.fromisoformat(
            row["valid_from"]
        )


def test_config_maps_the_survey_exports(demo: Path) -> None:
    config = tomllib.loads((demo / "productops.toml").read_text())
    assert config["pipeline"]["anonymity_threshold"] == 5
    assert config["usage"]["timestamp"] == "timestamp"
    assert {s["format"] for s in config["surveys"]} == {"google_forms", "surveymonkey"}
    for survey in config["surveys"]:
        assert set(survey) <= SURVEY_KEYS
        assert survey["wave_from"] == "filename"
        files = sorted((demo / "landing/surveys").glob(survey["files"]))
        assert len(files) == 2
        for path in files:
            assert re.search(survey["wave_pattern"], path.name)
            header = read_csv(path)[0]
            questions = [
                survey["team_question"],
                survey["recommend_question"],
                survey["respondent_question"],
                *(i["question"] for i in survey["likert"]),
            ]
            assert set(questions) <= set(header)


def test_usage_lines_parse_except_the_deliberate_bad_ones(demo: Path, summary: dict) -> None:
    bad, ids = 0, Counter()
    for _, line in usage_lines(demo):
        try:
            event = json.loads(line)
            parse_instant(event["timestamp"])
            assert {"user_email", "tool", "event", "event_id"} <= set(event)
        except (ValueError, KeyError, AssertionError):
            bad += 1
            continue
        ids[event["event_id"]] += 1
    counts = summary["counts"]
    assert bad == counts["usage_bad_lines"] == 3
    assert sum(1 for n in ids.values() if n > 1) == counts["usage_duplicate_lines"] == 2
    assert len(ids) == counts["usage_events"]
    assert bad / counts["usage_lines"] < 0.002


def test_survey_exports_have_their_tools_shapes(demo: Path) -> None:
    files = sorted((demo / "landing/surveys").iterdir())
    forms = [f for f in files if "gforms" in f.name]
    monkeys = [f for f in files if "surveymonkey" in f.name]
    assert len(forms) == len(monkeys) == 2
    for path in forms:
        rows = read_csv(path)
        assert rows[0][0] == "Timestamp"
        assert re.match(r"^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d\d:\d\d$", rows[1][0])
    for path in monkeys:
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")
        rows = read_csv(path)
        assert rows[0][:3] == ["Respondent ID", "Collector ID", "Start Date"]
        assert rows[1][-1] == "Open-Ended Response" and rows[1][0] == ""
        assert re.match(r"^\d\d/\d\d/\d{4} \d\d:\d\d:\d\d [AP]M$", rows[2][3])
    answers = [cell for f in files for row in read_csv(f)[1:] for cell in row]
    assert "" in answers  # some questions left blank


# --- Jira -------------------------------------------------------------------


def test_jira_search_pages_chain_by_token_and_end(demo: Path, summary: dict) -> None:
    exchange = replay(demo, "jira", "POST", "demo://jira/rest/api/3/search/jql")
    seen, pages = set(), 0
    while True:
        page = body(demo, "jira", exchange)
        pages += 1
        seen |= {i["id"] for i in page["issues"]}
        assert len(page["issues"]) <= 100
        if page["isLast"]:
            assert "nextPageToken" not in page
            break
        token = page["nextPageToken"]
        exchange = replay(
            demo, "jira", "POST", "demo://jira/rest/api/3/search/jql", {"nextPageToken": token, "jql": "x"}
        )
        assert pages < 1000
    assert len(seen) == summary["counts"]["jira_issues"]


def test_jira_issues_have_the_real_shape(demo: Path) -> None:
    statuses = {s["id"] for s in json.loads((demo / "api/jira/pages/status.json").read_text())}
    offsets = Counter()
    for issue in jira_issues(demo):
        fields = issue["fields"]
        assert set(issue) == {"expand", "id", "self", "key", "changelog", "fields"}
        assert fields["status"]["id"] in statuses
        for key in ("created", "updated"):
            assert JIRA_TIME.match(fields[key])
        offsets[(fields["project"]["key"], fields["created"][-5:])] += 1
        if fields["duedate"]:
            date.fromisoformat(fields["duedate"])
        for history in full_histories(demo, issue):
            assert JIRA_TIME.match(history["created"])
            for item in history["items"]:
                if item["field"] == "status":
                    assert {item["from"], item["to"]} <= statuses
    assert ("PAY", "+0100") in offsets and ("PAY", "+0200") in offsets  # winter and summer
    assert ("SRCH", "+0530") in offsets


def test_sprint_field_is_found_by_schema(demo: Path) -> None:
    fields = json.loads((demo / "api/jira/pages/field.json").read_text())
    sprint = [
        f for f in fields if (f.get("schema") or {}).get("custom") == "com.pyxis.greenhopper.jira:gh-sprint"
    ]
    assert [f["id"] for f in sprint] == ["customfield_10020"]
    assert any(i["fields"]["customfield_10020"] for i in jira_issues(demo))


def test_statuses_are_categorised_by_key_and_all_mapped(demo: Path) -> None:
    statuses = json.loads((demo / "api/jira/pages/status.json").read_text())
    renamed = next(s for s in statuses if s["id"] == "3")
    assert renamed["name"] == "En cours" and renamed["statusCategory"]["key"] == "indeterminate"
    mapped = {
        (r["project"], r["raw_status"])
        for r in seed_rows(demo, "status_mapping.csv")
        if r["source"] == "jira"
    }
    assert ("PAY", "10100") in mapped
    for issue in jira_issues(demo):
        project = issue["fields"]["project"]["key"]
        for history in full_histories(demo, issue):
            for item in history["items"]:
                if item["field"] == "status":
                    for status in (item["from"], item["to"]):
                        assert (project, status) in mapped or ("*", status) in mapped


def test_truncated_changelogs_have_complete_pages(demo: Path, summary: dict) -> None:
    truncated = [i for i in jira_issues(demo) if i["changelog"]["total"] > len(i["changelog"]["histories"])]
    assert len(truncated) == summary["counts"]["jira_truncated_changelogs"] >= 1
    for issue in truncated:
        url = f"demo://jira/rest/api/3/issue/{issue['key']}/changelog"
        start, values = 0, []
        while True:
            query = f"?startAt={start}&maxResults=100" if start else "?maxResults=100"
            page = body(demo, "jira", replay(demo, "jira", "GET", url + query))
            assert page["startAt"] == start and page["total"] == issue["changelog"]["total"]
            values += page["values"]
            start += len(page["values"])
            if page["isLast"]:
                break
        assert len(values) == issue["changelog"]["total"]
        embedded = issue["changelog"]["histories"]
        assert [h["id"] for h in values[: len(embedded)]] == [h["id"] for h in embedded]
        # The status changes hide behind the embedded histories.
        assert any(i["field"] == "status" for h in values[len(embedded) :] for i in h["items"])


def test_timestamps_stay_inside_the_history(demo: Path, summary: dict) -> None:
    start, end = parse_instant(summary["history_start"]), parse_instant(summary["history_end"])
    for issue in jira_issues(demo):
        for key in ("created", "updated", "resolutiondate"):
            if issue["fields"][key]:
                assert start <= parse_instant(issue["fields"][key]) < end
    for page in (demo / "api/okta/pages").glob("*.json"):
        for event in json.loads(page.read_text()):
            assert start <= parse_instant(event["published"]) < end


# --- GitHub -----------------------------------------------------------------


def follow_github(demo: Path, path: str) -> list[dict[str, Any]]:
    url, rows, pages = f"demo://github{path}?state=all&per_page=100", [], 0
    while url:
        exchange = replay(demo, "github", "GET", url)
        rows += body(demo, "github", exchange)
        pages += 1
        assert pages < 1000
        next_url = links(exchange["headers"].get("link", "")).get("next")
        url = next_url.replace("{base}", "demo://github") if next_url else None
    return rows


def test_github_pages_chain_by_link_and_agree_with_events(demo: Path, summary: dict) -> None:
    repos = [r["container"] for r in seed_rows(demo, "ownership.csv") if r["source"] == "github"]
    issues = pulls = 0
    for repo in repos:
        items = follow_github(demo, f"/repos/{repo}/issues")
        events = follow_github(demo, f"/repos/{repo}/issues/events")
        assert [e["id"] for e in events] == sorted((e["id"] for e in events), reverse=True)
        by_number = {i["number"]: i for i in items}
        assert len(by_number) == len(items)
        for item in items:
            assert GITHUB_TIME.match(item["created_at"])
            mine = sorted(
                (e for e in events if e["issue"]["number"] == item["number"]), key=lambda e: e["id"]
            )
            closes = [e for e in mine if e["event"] == "closed"]
            if item["state"] == "closed":
                assert closes and closes[-1]["created_at"] == item["closed_at"]
            else:
                assert item["closed_at"] is None
            if "pull_request" in item:
                pulls += 1
                assert item["state_reason"] is None
            else:
                issues += 1
                if item["state"] == "closed":
                    assert item["state_reason"] == closes[-1]["state_reason"]
                    assert item["state_reason"] in ("completed", "not_planned")
        assert {e["issue"]["number"] for e in events} <= set(by_number)
    assert issues == summary["counts"]["github_issues"]
    assert pulls == summary["counts"]["github_pull_requests"]


# --- Okta -------------------------------------------------------------------


def test_okta_pages_chain_by_after_and_end_on_an_empty_page(demo: Path, summary: dict) -> None:
    url, events, pages = "demo://okta/api/v1/logs?limit=1000&since=x", [], 0
    while True:
        exchange = replay(demo, "okta", "GET", url)
        page = body(demo, "okta", exchange)
        pages += 1
        link = links(exchange["headers"]["Link"])
        assert "self" in link and "next" in link  # Okta always links onward
        if not page:
            assert link["next"] == link["self"]
            break
        events += page
        url = link["next"].replace("{base}", "demo://okta")
        assert pages < 1000
    assert len(events) == summary["counts"]["okta_events"]
    assert [e["published"] for e in events] == sorted(e["published"] for e in events)
    sso = [e for e in events if e["eventType"] == "user.authentication.sso"]
    assert all(OKTA_TIME.match(e["published"]) for e in events)
    assert any(e["target"][0]["type"] == "AppUser" for e in sso)
    assert any(e["target"][0]["type"] == "AppInstance" for e in sso)
    assert any(e["outcome"]["result"] == "FAILURE" for e in events)
    assert any(e["eventType"] == "user.session.start" for e in events)


def test_activity_only_by_people_on_the_roster(demo: Path, summary: dict) -> None:
    periods: dict[str, list[tuple[date, date | None]]] = {}
    for row in seed_rows(demo, "roster.csv"):
        until = date.fromisoformat(row["valid_to"]) if row["valid_to"] else None
        periods.setdefault(row["email"], []).append((date.fromisoformat(row["valid_from"]), until))
    unknown = set(summary["stories"]["unknown_emails"])
    seen_unknown = set()

    def check(email: str, moment: datetime) -> None:
        email = email.lower()
        if email in unknown:
            seen_unknown.add(email)
            return
        day = moment.date()
        assert any(a <= day and (b is None or day < b) for a, b in periods[email]), email

    for _, line in usage_lines(demo):
        try:
            event = json.loads(line)
            email, moment = event["user_email"], parse_instant(event["timestamp"])
        except (ValueError, KeyError, AssertionError):
            continue  # the deliberate bad lines
        check(email, moment)
    for page in (demo / "api/okta/pages").glob("*.json"):
        for event in json.loads(page.read_text()):
            check(event["actor"]["alternateId"], parse_instant(event["published"]))
    assert seen_unknown == unknown


# --- the stories ------------------------------------------------------------


def test_roster_changes_during_the_year(demo: Path, summary: dict) -> None:
    roster = seed_rows(demo, "roster.csv")
    start = date.fromisoformat(summary["history_start"][:10])
    mover = summary["stories"]["mover"]
    rows = sorted((r for r in roster if r["email"] == mover["email"]), key=lambda r: r["valid_from"])
    assert [r["team_id"] for r in rows] == [mover["from_team"], mover["to_team"]]
    assert rows[0]["valid_to"] == rows[1]["valid_from"] == mover["date"]
    emails = Counter(r["email"] for r in roster)
    assert [e for e, n in emails.items() if n > 1] == [mover["email"]]
    assert any(date.fromisoformat(r["valid_from"]) > start for r in roster)  # joiners
    assert any(r["valid_to"] and r["email"] != mover["email"] for r in roster)  # leavers


def test_one_jira_project_has_no_owner(demo: Path) -> None:
    owned = {r["container"] for r in seed_rows(demo, "ownership.csv") if r["source"] == "jira"}
    projects = {i["fields"]["project"]["key"] for i in jira_issues(demo)}
    assert projects - owned == {"OPS"}


def test_canceled_reopened_and_open_items_exist(demo: Path) -> None:
    mapping = status_category(demo)
    canceled = reopened = still_open = 0
    for issue in jira_issues(demo):
        fields = issue["fields"]
        project = fields["project"]["key"]
        now = category(mapping, project, fields["status"]["id"])
        if now == "done":
            assert fields["resolution"] and fields["resolutiondate"]
            canceled += fields["resolution"]["name"] in ("Won't Do", "Duplicate")
        else:
            assert fields["resolution"] is None and fields["resolutiondate"] is None
            still_open += 1
        moves = transitions(demo, issue, mapping)
        reopened += any(a == "done" and b != "done" for _, a, b in moves)
    assert canceled and reopened and still_open


def test_due_dates_are_met_and_missed(demo: Path) -> None:
    met = missed = 0
    for issue in jira_issues(demo):
        fields = issue["fields"]
        if fields["duedate"] and fields["resolutiondate"]:
            # The resolution's local date (its own offset) against the due date.
            resolved = datetime.fromisoformat(fields["resolutiondate"]).date()
            met += resolved <= date.fromisoformat(fields["duedate"])
            missed += resolved > date.fromisoformat(fields["duedate"])
    assert met and missed


def test_story_team_cycle_time_halves_after_the_rollout(demo: Path, summary: dict) -> None:
    story = summary["stories"]["cycle_time_drop"]
    rollout = datetime.fromisoformat(story["rollout_date"]).replace(tzinfo=UTC)
    mapping = status_category(demo)
    before, after = [], []
    for issue in jira_issues(demo):
        fields = issue["fields"]
        if fields["project"]["key"] != "PAY" or not fields["resolution"]:
            continue
        if fields["resolution"]["name"] != "Done":
            continue
        moves = transitions(demo, issue, mapping)
        started = next((t for t, _, b in moves if b == "in_progress"), None)
        if started is None:
            continue
        resolved = [t for t, _, b in moves if b == "done"][-1]
        (after if started >= rollout else before).append((resolved - started).total_seconds())
    assert len(before) > 10 and len(after) > 10
    assert statistics.median(after) < 0.75 * statistics.median(before)


def test_retro_actions_are_opened_and_closed(demo: Path) -> None:
    labels = {r["label"] for r in seed_rows(demo, "improvement_labels.csv")}
    actions = [i for i in jira_issues(demo) if labels & set(i["fields"]["labels"])]
    assert any(i["fields"]["resolutiondate"] for i in actions)
    assert any(not i["fields"]["resolutiondate"] for i in actions)


def test_small_team_falls_under_the_anonymity_threshold(demo: Path, summary: dict) -> None:
    small = summary["stories"]["small_team"]
    waves = list(small["respondents_by_wave"].values())
    assert len(waves) == 4 and waves[-1] < 5
    team_name = next(r["team_name"] for r in seed_rows(demo, "teams.csv") if r["team_id"] == small["team_id"])
    last = sorted((demo / "landing/surveys").glob("*.csv"))[-1]
    rows = read_csv(last)[2:]
    assert 0 < sum(1 for r in rows if r[9] == team_name) < 5


def test_adoption_rises_after_rollout_and_one_tool_stays_niche(demo: Path, summary: dict) -> None:
    aliases = {}
    for row in seed_rows(demo, "tools.csv"):
        for alias in row["aliases"].split("|"):
            aliases[alias] = (row["tool_id"], date.fromisoformat(row["rollout_date"]))
    users: dict[str, set[str]] = {}
    early: dict[str, set[str]] = {}  # active in the first two weeks after rollout
    later: dict[str, set[str]] = {}  # active in weeks 7 and 8
    for _, line in usage_lines(demo):
        try:
            event = json.loads(line)
            moment, email = parse_instant(event["timestamp"]), event["user_email"].lower()
        except (ValueError, KeyError, AssertionError):
            continue
        tool, rollout = aliases[event["tool"]]
        weeks = (moment.date() - rollout).days // 7
        assert weeks >= 0
        users.setdefault(tool, set()).add(email)
        if weeks < 2:
            early.setdefault(tool, set()).add(email)
        elif weeks in (6, 7):
            later.setdefault(tool, set()).add(email)
    niche = summary["stories"]["low_adoption_tool"]
    assert min(users, key=lambda t: len(users[t])) == niche
    assert set(users) == {r["tool_id"] for r in seed_rows(demo, "tools.csv")}
    for tool in set(users) - {niche}:
        assert len(later.get(tool, ())) > len(early.get(tool, ())), tool
