"""The organisation's reference data ("seeds") as the CSV files dbt loads.

Columns follow docs/architecture.md exactly; dates are ISO, empty means null.
"""

from __future__ import annotations

from pathlib import Path

from ingestion.demo.adoption import rollout_date
from ingestion.demo.catalog import JIRA_PROJECTS, REPOS, TEAMS, TOOLS
from ingestion.demo.files import csv_text, write_text
from ingestion.demo.jira_reference import CANONICAL, STATUS_OVERRIDES, STATUSES
from ingestion.demo.org import Org
from ingestion.demo.timekeeping import Window

SEED_COLUMNS: dict[str, tuple[str, ...]] = {
    "teams.csv": ("team_id", "team_name", "time_zone"),
    "roster.csv": ("email", "team_id", "role", "valid_from", "valid_to", "github_login", "jira_account_id"),
    "ownership.csv": ("source", "container", "team_id"),
    "tools.csv": ("tool_id", "tool_name", "aliases", "rollout_date"),
    "status_mapping.csv": ("source", "project", "issue_type", "raw_status", "status_category"),
    "improvement_labels.csv": ("source", "label", "kpi"),
    "kpi_targets.csv": ("scope", "kpi", "direction", "target", "at_risk_band"),
}

# What the demo's product-ops lead aims for: one org-wide row per KPI, and a
# tighter cycle-time target for payments once it has Copilot.
KPI_TARGETS: tuple[tuple[str, ...], ...] = (
    ("*", "cycle_time_p85_days", "lower_is_better", "10", "14"),
    ("*", "lead_time_p85_days", "lower_is_better", "21", "30"),
    ("*", "on_time_rate", "higher_is_better", "0.8", "0.6"),
    ("*", "throughput", "higher_is_better", "3", "2"),
    ("*", "adoption_rate:notion", "higher_is_better", "0.7", "0.5"),
    ("*", "adoption_rate:copilot", "higher_is_better", "0.6", "0.4"),
    ("*", "satisfaction_score", "higher_is_better", "65", "55"),
    ("*", "enps", "higher_is_better", "20", "0"),
    ("*", "response_rate", "higher_is_better", "0.7", "0.5"),
    ("*", "completion_rate", "higher_is_better", "0.8", "0.5"),
    ("payments", "cycle_time_p85_days", "lower_is_better", "7", "10"),
)


def _rows(org: Org, window: Window) -> dict[str, list[tuple[str, ...]]]:
    roster = sorted(
        (
            p.email,
            m.team_id,
            p.role,
            m.valid_from.isoformat(),
            m.valid_to.isoformat() if m.valid_to else "",
            p.github_login,
            p.jira_account_id,
        )
        for p in org.people
        for m in p.memberships
    )
    ownership = [("jira", p.key, p.team_id) for p in JIRA_PROJECTS if p.team_id]
    ownership += [("github", r.full_name, r.team_id) for r in REPOS]
    overridden = {status for _, status, _ in STATUS_OVERRIDES}
    mapping = [("jira", project, "*", status, category) for project, status, category in STATUS_OVERRIDES]
    # Every status the demo uses gets a row, so none is left to a default.
    mapping += [
        ("jira", "*", "*", s.status_id, CANONICAL[s.category])
        for s in STATUSES
        if s.status_id not in overridden
    ]
    mapping += [
        ("github", "*", "*", "open", "todo"),
        ("github", "*", "*", "in_progress_label", "in_progress"),
        ("github", "*", "*", "closed", "done"),
    ]
    return {
        "teams.csv": [(t.team_id, t.name, t.time_zone) for t in TEAMS],
        "roster.csv": roster,
        "ownership.csv": ownership,
        "tools.csv": [
            (t.tool_id, t.name, f"{t.okta_app}|{t.log_name}", rollout_date(t, window).isoformat())
            for t in TOOLS
        ],
        "status_mapping.csv": mapping,
        # `kpi` empty: these labels mark actions; a `kpi:<name>` label on the item names its KPI.
        "improvement_labels.csv": [("*", "retro-action", ""), ("*", "improvement", "")],
        "kpi_targets.csv": list(KPI_TARGETS),
    }


def write_seeds(seeds_dir: Path, org: Org, window: Window) -> dict[str, int]:
    """Write the seed files; returns data rows per file."""
    counts = {}
    for name, rows in _rows(org, window).items():
        write_text(seeds_dir / name, csv_text([SEED_COLUMNS[name], *rows]))
        counts[name] = len(rows)
    return counts
