"""The benchmark harness end to end at a tiny scale, and the increment it replays.

Speed is not asserted here (the benchmark measures it); what must hold is
that every stage is measured and that the pipeline and the hand-written
DuckDB baseline give the same delivery_weekly and adoption_weekly.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from benchmarks.__main__ import main
from benchmarks.datasets import prepare
from benchmarks.scales import resolve_scale
from benchmarks.server import RecordingServer
from benchmarks.targets import figures as target_figures

STAGES = {
    "extract+land jira",
    "extract+land usage",
    "extract+land surveys",
    "gates",
    "dbt build",
    "publish",
    "total (process wall time)",
}


@pytest.mark.e2e
def test_tiny_benchmark_measures_every_stage_and_agrees_with_the_baseline(tmp_path: Path) -> None:
    code = main(
        ["--scale", "0.1", "--out", str(tmp_path), "--no-incremental", "--no-demo", "--latency-ms", "2"]
    )

    results = list(tmp_path.glob("*-0.1.json"))
    assert len(results) == 1
    result = json.loads(results[0].read_text())
    assert code == 0 and result["ok"]

    stages = {row["stage"]: row for row in result["full"]["stages"]}
    assert set(stages) >= STAGES
    jira = stages["extract+land jira"]
    counts = result["dataset"]["counts"]
    # Every search and changelog page went through the local server, plus
    # /myself (the JQL time zone) and the key-only deletion sweep.
    fetched = 2 + counts["jira_search_pages"] + counts["jira_changelog_pages"]
    assert fetched < jira["requests"] <= fetched + 1 + counts["jira_search_pages"]
    assert jira["rows"] > counts["jira_issues"] and jira["pages"] == 1 + counts["jira_search_pages"]
    # The latency bound: changelog pages (fan-out) 4 at a time beside the chain of the rest.
    http = result["full"]["http"]["jira"]
    assert http["fan_out_requests"] == counts["jira_changelog_pages"]
    chained = jira["requests"] - counts["jira_changelog_pages"]
    expected = max(chained, counts["jira_changelog_pages"] / 4, jira["requests"] / 5) * 2 / 1000
    assert jira["latency_floor_seconds"] == pytest.approx(expected, abs=1e-3)
    assert stages["extract+land usage"]["rows"] == counts["usage_events"]
    assert stages["dbt build"]["seconds"] > 0 and stages["dbt build"]["rows"] > 0
    assert result["full"]["process"]["tree_rss_mb"] >= result["full"]["process"]["max_rss_mb"] > 0

    baseline = result["baseline"]
    assert baseline["process"]["returncode"] == 0 and baseline["process"]["max_rss_mb"] > 0
    for mart in ("delivery_weekly", "adoption_weekly"):
        check = baseline["check"][mart]
        assert check["equal"], check
        assert check["rows_pipeline"] == check["rows_baseline"] > 0
    assert result["ratio"]["time"] > 0
    # DuckDB's own reader over the same usage files: the denominator of the landing figure.
    assert result["read_json_seconds"] > 0
    figures = target_figures(result)
    assert figures["usage_vs_read_json"] > 0 and figures["full_vs_baseline"] > figures["core_vs_baseline"] > 0
    assert figures["no_change_vs_full"] is None and figures["demo_wall_seconds"] is None  # not run here


def test_increment_is_served_as_a_second_recording(tmp_path: Path) -> None:
    dataset = prepare(resolve_scale("0.1"), tmp_path / "data")
    with RecordingServer(dataset.api, latency_ms=0) as server:
        url = server.url("jira") + "/rest/api/3/search/jql"
        first = requests.post(url, json={"jql": "order by updated"}, timeout=10).json()
        full_ids = set()
        body: dict = {"jql": "order by updated"}
        while True:
            page = requests.post(url, json=body, timeout=10).json()
            full_ids |= {i["id"] for i in page["issues"]}
            if page["isLast"]:
                break
            body["nextPageToken"] = page["nextPageToken"]
        assert len(full_ids) == dataset.counts["jira_issues"]

        server.load(dataset.delta_api)
        delta = requests.post(url, json={"jql": "updated >= -1d"}, timeout=10).json()
        stats = server.reset_stats()

    assert delta["isLast"] and first["issues"] != delta["issues"]
    updated = [i for i in delta["issues"] if i["id"] in full_ids]
    new = [i for i in delta["issues"] if i["id"] not in full_ids]
    assert len(updated) == dataset.counts["delta_jira_updated"] >= 1
    assert len(new) == dataset.counts["delta_jira_new"] >= 1
    for issue in delta["issues"]:
        histories = issue["changelog"]["histories"]
        # The change is the issue's latest history, and its time is the issue's update.
        assert issue["changelog"]["total"] == len(histories)
        assert histories[-1]["created"] == issue["fields"]["updated"]
        assert histories[-1]["items"][-1]["to"] == issue["fields"]["status"]["id"]
    assert stats["jira"]["requests"] == 1 + dataset.counts["jira_search_pages"] + 1
    usage = (dataset.delta_usage / "events-delta.jsonl").read_text().splitlines()
    assert len(usage) == dataset.counts["delta_usage_events"]


def test_bulk_jira_history_ids_are_unique_across_issues() -> None:
    from datetime import date

    from benchmarks.gen_jira import HISTORY_ID_STRIDE, build_issue, spec_for
    from benchmarks.gen_org import build_org
    from ingestion.demo.timekeeping import Window

    org = build_org(300, Window.ending_on(date(2026, 11, 1)), seed=3)
    spec = spec_for(org, 3000, seed=3)
    ids: list[str] = []
    longest = 0
    for index in range(3000):
        issue = build_issue(spec, index)
        ids += [h["id"] for h in issue.histories]
        longest = max(longest, len(issue.histories))
    # Some issues are long (past the 40 embedded histories), none reaches the stride.
    assert 40 < longest < HISTORY_ID_STRIDE
    assert len(ids) == len(set(ids))
