"""Blocking gates on the raw layer: a failure stops everything downstream.

Each check validates the batch this run landed (rows with its `_run_id`), so
the cost follows the batch, not the history.
"""

import dagster as dg

from orchestration.defs.sources import RAW_STREAMS, raw_asset_key
from orchestration.resources import WarehouseResource

# The instant column of each raw table that must be a sane time.
TIME_COLUMNS = {
    "jira_issues": "updated_at",
    "jira_changelogs": "created_at",
    "github_issues": "updated_at",
    "github_pull_requests": "updated_at",
    "github_issue_events": "created_at",
    "okta_system_log": "published_at",
    "usage_events": "occurred_at",
    "survey_responses": "submitted_at",
}


def _rejected_share_check(source: str, first_table: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=raw_asset_key(source, first_table),
        name="rejected_share_within_threshold",
        blocking=True,
        pool="duckdb",
        description=f"Share of {source} records quarantined in this run stays under the threshold.",
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
        threshold = warehouse.settings().rejected_share_threshold
        with warehouse.connect() as con:
            landed, rejected = con.execute(
                """
                select coalesce(sum(rows_landed), 0), coalesce(sum(rows_rejected), 0)
                from raw.load_log where run_id = ? and source = ?
                """,
                [context.run.run_id, source],
            ).fetchall()[0]
            reasons = con.execute(
                """
                select reason, count(*) from raw.rejected_records
                where run_id = ? and source = ? group by reason order by 2 desc limit 5
                """,
                [context.run.run_id, source],
            ).fetchall()
        total = landed + rejected
        share = rejected / total if total else 0.0
        return dg.AssetCheckResult(
            passed=share <= threshold,
            description=(
                f"raw {source}: {rejected} of {total} records rejected ({share:.2%}); "
                f"threshold {threshold:.2%}"
            ),
            metadata={
                "rejected": rejected,
                "landed": landed,
                "share": share,
                "threshold": threshold,
                "top_reasons": dg.MetadataValue.md(
                    "\n".join(f"- {count} × {reason}" for reason, count in reasons) or "none"
                ),
            },
        )

    return _check


def _time_range_check(source: str, table: str, raw_table: str, column: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=raw_asset_key(source, table),
        name="timestamps_in_range",
        blocking=True,
        pool="duckdb",
        description=f"raw.{raw_table}.{column} of this run's batch lies between 2000 and now.",
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
        with warehouse.connect() as con:
            rows, bad = con.execute(
                f"""
                select count(*),
                    count(*) filter (
                        where {column} is null
                        or {column} < timestamptz '2000-01-01 00:00:00+00'
                        or {column} > now() + interval 1 day
                    )
                from raw.{raw_table} where _run_id = ?
                """,
                [context.run.run_id],
            ).fetchall()[0]
        return dg.AssetCheckResult(
            passed=bad == 0,
            description=f"raw.{raw_table}: {bad} of {rows} rows with {column} missing or out of range",
            metadata={"rows_checked": rows, "failing_rows": bad},
        )

    return _check


raw_checks: list[dg.AssetChecksDefinition] = []
for _source, _streams in RAW_STREAMS.items():
    raw_checks.append(_rejected_share_check(_source, _streams[0][0]))
    for _table, _raw_table, _ in _streams:
        if _raw_table in TIME_COLUMNS:
            raw_checks.append(_time_range_check(_source, _table, _raw_table, TIME_COLUMNS[_raw_table]))
