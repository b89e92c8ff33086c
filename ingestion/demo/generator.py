"""`generate()`: write the whole demo organisation to a folder.

Deterministic: the same (seed, scale, run_date) always writes the same bytes.
Each concern draws from its own `random.Random`, seeded from the seed and the
concern's name, so changing one generator does not reshuffle the others.
"""

from __future__ import annotations

import random
import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ingestion.demo import github, jira, okta
from ingestion.demo.adoption import rollout_date, simulate_sessions
from ingestion.demo.catalog import (
    LOW_ADOPTION_TOOL,
    SMALL_TEAM,
    STORY_TEAM,
    STORY_TOOL,
    TOOL_BY_ID,
)
from ingestion.demo.config_file import write_config
from ingestion.demo.files import write_pretty_json
from ingestion.demo.org import build_org
from ingestion.demo.recording import Recorder
from ingestion.demo.seeds import write_seeds
from ingestion.demo.surveys import write_surveys
from ingestion.demo.timekeeping import Window, iso_z
from ingestion.demo.usage import build_events, write_usage
from ingestion.demo.workflow import COMPLETED, reopen_count

FORMAT_VERSION = 1
# Folders generate() owns and rewrites from scratch, so no stale file survives.
OWNED_DIRS = ("seeds", "landing/surveys", "landing/usage", "api/jira", "api/github", "api/okta")


def _stream(seed: int, name: str) -> random.Random:
    return random.Random(f"{seed}/{name}")


def generate(
    out_dir: Path, *, scale: float = 1.0, seed: int = 42, run_date: date | None = None
) -> dict[str, Any]:
    """Write the demo organisation under `out_dir`; returns the summary in `generator.json`.

    `scale` multiplies people and volumes; `run_date` (default today, UTC) is
    the day the twelve months of history end on (exclusive: the last
    instant is just before run_date 00:00 UTC).
    """
    if scale <= 0:
        raise ValueError("scale must be positive")
    out_dir = Path(out_dir)
    window = Window.ending_on(run_date or datetime.now(UTC).date())
    for owned in OWNED_DIRS:
        shutil.rmtree(out_dir / owned, ignore_errors=True)

    org = build_org(_stream(seed, "org"), window, scale)
    seed_rows = write_seeds(out_dir / "seeds", org, window)

    issues = jira.build_issues(_stream(seed, "jira"), org, window, scale)
    jira_result = jira.record(Recorder(out_dir / "api" / "jira"), issues, seed, window)

    repos = github.build_items(_stream(seed, "github"), org, window, scale)
    github_result = github.record(Recorder(out_dir / "api" / "github"), repos, window)

    sessions = simulate_sessions(_stream(seed, "adoption"), org, window)
    okta_events = okta.build_events(_stream(seed, "okta"), sessions, org, window)
    okta_result = okta.record(Recorder(out_dir / "api" / "okta"), okta_events, window)
    usage_events = build_events(_stream(seed, "usage"), sessions, window)
    usage = write_usage(_stream(seed, "usage-files"), out_dir / "landing" / "usage", usage_events, window)

    surveys = write_surveys(_stream(seed, "surveys"), out_dir / "landing" / "surveys", org, window)
    write_config(out_dir / "productops.toml")

    items = [i.item for i in issues]
    counts = {
        "teams": seed_rows["teams.csv"],
        "people": len(org.people),
        "roster_rows": seed_rows["roster.csv"],
        "jira_issues": len(issues),
        "jira_histories": sum(len(i.drafts) for i in issues),
        "jira_truncated_changelogs": sum(1 for i in issues if i.long_history),
        "jira_search_pages": jira_result.pages,
        "jira_changelog_pages": jira_result.changelog_pages,
        "jira_canceled": sum(1 for i in items if i.resolved and i.resolved.outcome != COMPLETED),
        "jira_reopened": sum(1 for i in items if reopen_count(i.steps) > 0),
        "jira_retro_actions": sum(1 for i in items if i.is_action),
        "github_issues": github_result.issues,
        "github_pull_requests": github_result.pull_requests,
        "github_issue_events": github_result.events,
        "okta_events": okta_result.events,
        "okta_sso_events": okta_result.sso_events,
        "okta_pages": okta_result.pages,
        "usage_events": usage.events,
        "usage_lines": usage.lines,
        "usage_bad_lines": usage.bad_lines,
        "usage_duplicate_lines": usage.duplicate_lines,
        "survey_waves": len(surveys.waves),
        "survey_responses": surveys.responses,
    }
    summary: dict[str, Any] = {
        "generator": "ingestion.demo",
        "format_version": FORMAT_VERSION,
        "seed": seed,
        "scale": scale,
        "run_date": window.run_date.isoformat(),
        "history_start": iso_z(window.start),
        "history_end": iso_z(window.end),
        "counts": counts,
        "exchanges": {
            "jira": jira_result.exchanges,
            "github": github_result.exchanges,
            "okta": okta_result.exchanges,
        },
        "files": {
            "usage": usage.files,
            "surveys": [w.file_name for w in surveys.waves],
        },
        "stories": {
            "cycle_time_drop": {
                "team_id": STORY_TEAM,
                "tool_id": STORY_TOOL,
                "rollout_date": rollout_date(TOOL_BY_ID[STORY_TOOL], window).isoformat(),
            },
            "low_adoption_tool": LOW_ADOPTION_TOOL,
            "small_team": {
                "team_id": SMALL_TEAM,
                "respondents_by_wave": {
                    wave: teams.get(SMALL_TEAM, 0) for wave, teams in surveys.respondents_by_wave.items()
                },
            },
            "mover": {
                "email": org.mover.email,
                "from_team": org.mover.memberships[0].team_id,
                "to_team": org.mover.memberships[1].team_id,
                "date": org.move_date.isoformat(),
            },
            "unowned_jira_project": "OPS",
            "unknown_emails": sorted({s.email for s in sessions if s.person is None}),
        },
    }
    write_pretty_json(out_dir / "generator.json", summary)
    return summary
