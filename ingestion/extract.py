"""Extract-and-land entry points, one per API source, used by Dagster and tests.

Each builds its connector from the settings (live URL and credentials, or the
demo recording), reads the stream cursors, lands page by page, then sweeps
the source's keys to flag deleted items. Sweeps run on live sources only: a
recording never loses an item.
"""

from __future__ import annotations

import csv
from datetime import timedelta

from requests.auth import HTTPBasicAuth

from ingestion.config import Settings
from ingestion.deletions import SweepStats, sweep_deletions
from ingestion.http import SourceSession, connector_errors, make_session
from ingestion.loader import RawLoader, StreamStats
from ingestion.sources.github import GitHubConnector
from ingestion.sources.jira import BASE_FIELDS, JiraConnector
from ingestion.sources.linear import LinearConnector
from ingestion.sources.okta import OktaConnector

LandStats = dict[str, StreamStats | SweepStats]


def _session(settings: Settings, source: str, base_url: str, **kwargs) -> SourceSession:
    return make_session(source, base_url, demo_dir=settings.demo_dir, **kwargs)


def jira_session(settings: Settings) -> SourceSession:
    if settings.jira is None:
        return _session(settings, "jira", "demo://jira")
    jira = settings.jira
    return _session(
        settings,
        "jira",
        jira.base_url,
        auth=HTTPBasicAuth(jira.email, jira.api_token.value),
        headers={"Accept": "application/json"},
    )


def github_session(settings: Settings) -> SourceSession:
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    if settings.github is None:
        return _session(settings, "github", "demo://github", headers=headers)
    if settings.github.token is not None:
        headers["Authorization"] = f"Bearer {settings.github.token.value}"
    return _session(settings, "github", settings.github.api_url, headers=headers)


def okta_session(settings: Settings) -> SourceSession:
    if settings.okta is None:
        return _session(settings, "okta", "demo://okta")
    return _session(
        settings,
        "okta",
        settings.okta.org_url,
        headers={
            "Authorization": f"SSWS {settings.okta.api_token.value}",
            "Accept": "application/json",
        },
    )


def linear_session(settings: Settings) -> SourceSession:
    if settings.linear is None:
        raise ValueError("Linear is not configured (LINEAR_API_KEY)")
    key = settings.linear.api_key.value
    # Personal API keys go as they are; OAuth access tokens as Bearer tokens.
    authorization = f"Bearer {key}" if key.startswith("lin_oauth_") else key
    return _session(
        settings,
        "linear",
        settings.linear.api_url,
        headers={"Authorization": authorization, "Content-Type": "application/json"},
    )


def github_repos(settings: Settings) -> tuple[str, ...]:
    if settings.github is not None:
        return settings.github.repos
    # The demo organisation's repositories are the ones its teams own.
    ownership = settings.seeds_dir / "ownership.csv"
    if not ownership.exists():
        return ()
    with ownership.open(newline="") as fh:
        return tuple(row["container"] for row in csv.DictReader(fh) if row["source"] == "github")


def land_jira(loader: RawLoader, settings: Settings) -> LandStats:
    session = jira_session(settings)
    with connector_errors(session):
        return _land_jira(loader, settings, session)


def _land_jira(loader: RawLoader, settings: Settings, session: SourceSession) -> LandStats:
    connector = JiraConnector(
        session,
        jql=settings.jira.jql if settings.jira else "",
        overlap=timedelta(minutes=settings.overlap_minutes),
        # The recording ignores the JQL; only a live site needs the user's zone.
        time_zone=None if settings.jira else "UTC",
    )
    stats: LandStats = {"statuses": loader.land("jira", "statuses", [connector.status_page()])}
    sprint_field = connector.sprint_field_id()
    fields = BASE_FIELDS + ((sprint_field,) if sprint_field else ())
    pages = connector.issue_pages(loader.cursor("jira", "issues"), fields=fields)
    stats["issues"] = loader.land("jira", "issues", pages)
    if settings.jira is not None:
        stats["issues:sweep"] = sweep_deletions(
            loader, "jira", "jira_issues", "issue_id", connector.issue_ids()
        )
    return stats


def land_github(loader: RawLoader, settings: Settings) -> LandStats:
    session = github_session(settings)
    with connector_errors(session):
        return _land_github(loader, settings, session)


def _land_github(loader: RawLoader, settings: Settings, session: SourceSession) -> LandStats:
    connector = GitHubConnector(session, overlap=timedelta(minutes=settings.overlap_minutes))
    stats: LandStats = {}
    for repo in github_repos(settings):
        issues = connector.issue_pages(repo, loader.cursor("github", f"issues:{repo}"))
        stats[f"issues:{repo}"] = loader.land("github", f"issues:{repo}", issues)
        events = connector.event_pages(repo, loader.cursor("github", f"issue_events:{repo}"))
        stats[f"issue_events:{repo}"] = loader.land("github", f"issue_events:{repo}", events)
        if settings.github is not None:
            stats[f"issues:{repo}:sweep"] = sweep_deletions(
                loader,
                "github",
                "github_issues",
                "issue_id",
                connector.issue_ids(repo),
                scope={"repository": repo},
            )
    return stats


def land_linear(loader: RawLoader, settings: Settings) -> LandStats:
    session = linear_session(settings)
    with connector_errors(session):
        connector = LinearConnector(session, overlap=timedelta(minutes=settings.overlap_minutes))
        pages = connector.issue_pages(loader.cursor("linear", "issues"))
        stats: LandStats = {"issues": loader.land("linear", "issues", pages)}
        stats["issues:sweep"] = sweep_deletions(
            loader, "linear", "linear_issues", "issue_id", connector.issue_ids()
        )
    return stats


def land_okta(loader: RawLoader, settings: Settings) -> LandStats:
    session = okta_session(settings)
    with connector_errors(session):
        connector = OktaConnector(session)
        pages = connector.log_pages(loader.cursor("okta", "system_log"))
        return {"system_log": loader.land("okta", "system_log", pages)}
