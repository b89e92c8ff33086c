"""Raw-layer assets: one multi-asset per source, keyed like the dbt sources.

Asset keys are `[source, table]`, the same keys dagster-dbt gives the dbt
sources, so lineage from raw tables to the models reading them needs no glue.
"""

import logging
from collections.abc import Callable

import dagster as dg

from ingestion.deletions import SweepStats
from ingestion.extract import land_github, land_jira, land_linear, land_okta
from ingestion.loader import RawLoader, StreamStats
from ingestion.pages import FileCounts
from ingestion.sources.surveys.land import land_surveys
from ingestion.sources.surveys.typeform import typeform_connector
from ingestion.sources.usage_logs import SOURCE as USAGE_SOURCE
from ingestion.sources.usage_logs import STREAM as USAGE_STREAM
from ingestion.sources.usage_logs import land_usage_logs, usage_file_mappings
from orchestration.gates.gone_files import forget_gone_files
from orchestration.resources import WarehouseResource

GROUP = "sources"

# (source, table in dbt, raw table, description)
RAW_STREAMS: dict[str, list[tuple[str, str, str]]] = {
    "jira": [
        ("issues", "jira_issues", "Jira issues, latest version per issue, payload as returned."),
        ("changelogs", "jira_changelogs", "Every Jira changelog history, completed past the page cap."),
        ("statuses", "jira_statuses", "Jira statuses by id with their category key."),
    ],
    "github": [
        ("issues", "github_issues", "GitHub issues (pull requests excluded), latest version."),
        ("pull_requests", "github_pull_requests", "GitHub pull requests, kept apart from issues."),
        ("issue_events", "github_issue_events", "GitHub issue events: assignment, labels, close, reopen."),
    ],
    "linear": [("issues", "linear_issues", "Linear issues, latest version per issue; trashed ones flagged.")],
    "okta": [("system_log", "okta_system_log", "Okta System Log SSO events: one app use each.")],
    "usage": [("events", "usage_events", "Tool-usage events from the landing folder's logs.")],
    "surveys": [
        ("responses", "survey_responses", "Survey responses, one per respondent and wave; no identity."),
        ("answers", "survey_answers", "Mapped survey answers (Likert items, recommend score)."),
    ],
}

KINDS = {
    "jira": "jira",
    "github": "github",
    "linear": "linear",
    "okta": "okta",
    "usage": "file",
    "surveys": "file",
}

progress = logging.getLogger("orchestration.progress")


def raw_asset_key(source: str, table: str) -> dg.AssetKey:
    return dg.AssetKey([source, table])


def _specs(source: str) -> list[dg.AssetSpec]:
    return [
        dg.AssetSpec(
            raw_asset_key(source, table),
            description=description,
            group_name=GROUP,
            kinds={"duckdb", KINDS[source]},
            owners=["team:product-ops"],
            metadata={"raw_table": f"raw.{raw_table}"},
        )
        for table, raw_table, description in RAW_STREAMS[source]
    ]


def _summary(stats: dict[str, StreamStats | SweepStats]) -> dict[str, dg.MetadataValue]:
    landed = [s for s in stats.values() if isinstance(s, StreamStats)]
    sweeps = [s for s in stats.values() if isinstance(s, SweepStats)]
    summary = {
        "pages": dg.MetadataValue.int(sum(s.pages for s in landed)),
        "rows_landed": dg.MetadataValue.int(sum(s.rows_landed for s in landed)),
        "rows_rejected": dg.MetadataValue.int(sum(s.rows_rejected for s in landed)),
    }
    files = {path: counts for s in landed for path, counts in s.files.items()}
    if files:
        summary["rows_duplicate"] = dg.MetadataValue.int(sum(c.duplicates for c in files.values()))
        summary["rows_skipped"] = dg.MetadataValue.int(sum(c.skipped for c in files.values()))
        summary["files"] = dg.MetadataValue.md(_file_table(files))
    if sweeps:
        summary["rows_flagged_deleted"] = dg.MetadataValue.int(sum(s.marked_deleted for s in sweeps))
        summary["rows_restored"] = dg.MetadataValue.int(sum(s.restored for s in sweeps))
    return summary


def _file_table(files: dict[str, FileCounts]) -> str:
    """Every line of every file landed, in one of four fates (or the file unreadable)."""
    rows = ["| file | landed | duplicate | skipped | rejected |", "| --- | ---: | ---: | ---: | ---: |"]
    for path, c in sorted(files.items()):
        if c.problem:
            rows.append(f"| {path} | unreadable: {c.problem} | | | |")
        else:
            rows.append(f"| {path} | {c.landed} | {c.duplicates} | {c.skipped} | {c.rejected} |")
    return "\n".join(rows)


def _source_asset(source: str, enabled: Callable, land: Callable) -> dg.AssetsDefinition:
    @dg.multi_asset(
        name=f"{source}_raw",
        specs=_specs(source),
        pool="duckdb",
        description=f"Extract {source} and land it in schema raw, page by page.",
    )
    def _asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        settings = warehouse.settings()
        stats: dict[str, StreamStats | SweepStats] = {}
        if enabled(settings):
            progress.info("extract %s", source)
            with warehouse.connect() as con:
                loader = RawLoader(con, run_id=context.run_id)
                stats = land(loader, settings)
        else:
            context.log.info("%s is not configured for this run; nothing extracted", source)
        metadata = {**_summary(stats), "enabled": dg.MetadataValue.bool(enabled(settings))}
        for table, _, _ in RAW_STREAMS[source]:
            yield dg.MaterializeResult(asset_key=raw_asset_key(source, table), metadata=metadata)

    return _asset


def _land_usage(loader: RawLoader, settings) -> dict[str, StreamStats]:
    usage_dir = settings.landing_dir / "usage"
    # A removed file takes the rows no gate has passed with it (gone_files.py).
    forget_gone_files(loader, settings.landing_dir, USAGE_SOURCE, USAGE_STREAM, "usage_events")
    per_file = usage_file_mappings(settings.config_file, settings.usage)  # [[usage_files]]
    return {"events": land_usage_logs(loader.con, loader, usage_dir, settings.usage, file_mappings=per_file)}


def _land_surveys(loader: RawLoader, settings) -> dict[str, StreamStats]:
    # Files from the landing folder and forms from Typeform's API, one stream.
    surveys_dir = settings.landing_dir / "surveys"
    typeform = typeform_connector(settings)  # None without TYPEFORM_TOKEN
    stats = land_surveys(loader.con, loader, surveys_dir, settings.surveys, settings.salt, typeform=typeform)
    return {"responses": stats}


# Whether a source has anything to extract with these settings.
SOURCE_ENABLED: dict[str, Callable] = {
    "jira": lambda s: s.demo_mode or s.jira is not None,
    "github": lambda s: s.demo_mode or s.github is not None,
    # Linear has no demo recording: it runs only when configured.
    "linear": lambda s: s.linear is not None,
    "okta": lambda s: s.demo_mode or s.okta is not None,
    "usage": lambda s: (s.landing_dir / "usage").is_dir(),
    "surveys": lambda s: bool(s.surveys) and ((s.landing_dir / "surveys").is_dir() or s.typeform is not None),
}
_LAND: dict[str, Callable] = {
    "jira": land_jira,
    "github": land_github,
    "linear": land_linear,
    "okta": land_okta,
    "usage": _land_usage,
    "surveys": _land_surveys,
}

source_assets = [_source_asset(source, SOURCE_ENABLED[source], _LAND[source]) for source in RAW_STREAMS]
