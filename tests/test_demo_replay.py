"""Connectors read the demo recording through their live code path, completely."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from ingestion.config import load_settings
from ingestion.extract import land_github, land_jira, land_okta
from ingestion.http import make_session
from ingestion.loader import RawLoader


def _recording(tmp_path: Path) -> Path:
    api = tmp_path / "api" / "thing"
    (api / "pages").mkdir(parents=True)
    (api / "pages" / "p1.json").write_text('{"n": 1}')
    (api / "pages" / "p2.json").write_text('{"n": 2, "next": "{base}/x?page=3"}')
    exchanges = [
        {"method": "GET", "path": "/x", "params": {}, "json": {}, "body_file": "pages/p1.json"},
        {"method": "GET", "path": "/x", "params": {"page": "2"}, "json": {}, "body_file": "pages/p2.json"},
    ]
    (api / "exchanges.jsonl").write_text("\n".join(json.dumps(e) for e in exchanges))
    return tmp_path


def test_recorded_transport_honours_query_params_and_base(tmp_path):
    session = make_session("thing", "demo://thing", demo_dir=_recording(tmp_path))
    assert session.json("GET", "/x")[0] == {"n": 1}
    # requests drops params= on non-HTTP schemes; the session must not.
    assert session.json("GET", "/x", params={"page": 2, "per_page": 100})[0] == {
        "n": 2,
        "next": "demo://thing/x?page=3",
    }


def test_unrecorded_request_is_a_clear_error(tmp_path):
    import pytest

    from ingestion.pages import SourceError

    session = make_session("thing", "demo://thing", demo_dir=_recording(tmp_path))
    with pytest.raises(SourceError, match=r"thing: HTTP 404.*no recording for /nope"):
        session.json("GET", "/nope")


def test_demo_recording_lands_completely(pipeline_env, tmp_path):
    settings = load_settings()
    summary = json.loads((settings.demo_dir / "generator.json").read_text())["counts"]
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        loader = RawLoader(con, "run-1")
        land_jira(loader, settings)
        land_github(loader, settings)
        land_okta(loader, settings)
        counts = {
            table: con.execute(f"select count(*) from raw.{table}").fetchall()[0][0]
            for table in (
                "jira_issues",
                "jira_changelogs",
                "github_issues",
                "github_pull_requests",
                "github_issue_events",
                "okta_system_log",
            )
        }
    assert counts["jira_issues"] == summary["jira_issues"]
    assert counts["jira_changelogs"] == summary["jira_histories"]
    assert counts["github_issues"] == summary["github_issues"]
    assert counts["github_pull_requests"] == summary["github_pull_requests"]
    assert counts["github_issue_events"] == summary["github_issue_events"]
    assert counts["okta_system_log"] == summary["okta_events"]
