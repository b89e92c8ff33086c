"""Blocking gates on the raw layer: a failure stops everything downstream in the run.

One multi-asset check per source runs all of that source's gates in one step
(one read of each table's batch) and yields one blocking result per gate, so
the Dagster UI shows each gate on the raw table it guards. The gates
themselves live in `orchestration.gates`.
"""

import dagster as dg

from orchestration.defs.sources import RAW_STREAMS, raw_asset_key
from orchestration.gates.source_gates import SourceTables, gate_names, run_source_gates
from orchestration.resources import WarehouseResource


def _metadata(value):
    # Multi-line text (the quarantine reasons) reads best as markdown in the UI.
    return dg.MetadataValue.md(value) if isinstance(value, str) and "\n" in value else value


def _source_gates(source: SourceTables) -> dg.AssetChecksDefinition:
    specs = [
        dg.AssetCheckSpec(
            name=check, asset=raw_asset_key(source.source, table), description=text, blocking=True
        )
        for table, check, text in gate_names(source)
    ]

    @dg.multi_asset_check(
        name=f"{source.source}_raw_gates",
        specs=specs,
        pool="duckdb",
        description=f"Data-quality gates on the {source.source} batch this run landed.",
    )
    def _gates(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
        with warehouse.connect() as con:
            outcomes = run_source_gates(con, source, context.run.run_id, warehouse.settings())
        for outcome in outcomes:
            yield dg.AssetCheckResult(
                asset_key=raw_asset_key(source.source, outcome.table),
                check_name=outcome.check,
                passed=outcome.passed,
                description=outcome.message,
                metadata={
                    **{name: _metadata(value) for name, value in outcome.metadata.items()},
                    "failing_count": outcome.failing,
                },
            )

    return _gates


raw_checks: list[dg.AssetChecksDefinition] = [
    _source_gates(SourceTables(source, tuple((table, raw_table) for table, raw_table, _ in streams)))
    for source, streams in RAW_STREAMS.items()
]
