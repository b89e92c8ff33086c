"""Asset metadata applied across the code location, from the contracts that already exist.

- Raw tables get their column schema (names, DuckDB types, the DDL's comments)
  from `ingestion/raw_tables.py`, the contract between the loader and dbt.
- A raw table that dbt reads but no connector lands yet still shows up in the
  `sources` group, as an external asset that says so.
"""

import re
from collections.abc import Iterable

import dagster as dg
import duckdb

from ingestion.loader import ensure_raw_schema
from ingestion.raw_tables import RAW_SCHEMA, TABLES

SOURCES_GROUP = "sources"
OWNER = "team:product-ops"
_COMMENT = re.compile(r"^\s*(\w+)\s+[^-]*--\s*(.+?)\s*$")


def _raw_column_schemas() -> dict[str, dg.TableSchema]:
    con = duckdb.connect(":memory:")
    try:
        ensure_raw_schema(con)
        rows = con.execute(
            """
            select table_name, column_name, data_type, is_nullable
            from information_schema.columns where table_schema = ?
            order by table_name, ordinal_position
            """,
            [RAW_SCHEMA],
        ).fetchall()
    finally:
        con.close()
    comments = {
        table: dict(m.groups() for line in ddl.splitlines() if (m := _COMMENT.match(line)))
        for table, ddl in TABLES.items()
    }
    columns: dict[str, list[dg.TableColumn]] = {}
    for table, column, data_type, nullable in rows:
        columns.setdefault(table, []).append(
            dg.TableColumn(
                name=column,
                type=data_type.lower(),
                description=comments.get(table, {}).get(column),
                constraints=dg.TableColumnConstraints(nullable=nullable == "YES"),
            )
        )
    return {table: dg.TableSchema(columns=cols) for table, cols in columns.items()}


def _table_metadata(schemas: dict[str, dg.TableSchema], name: str) -> dict[str, object]:
    # Dagster's standard keys: the UI shows them as the asset's columns and table.
    return {
        "dagster/column_schema": dg.MetadataValue.table_schema(schemas[name]),
        "dagster/table_name": f"{RAW_SCHEMA}.{name}",
    }


def with_raw_column_schema(assets: Iterable[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    """Adds the column schema and table name to specs whose `raw_table` metadata names a raw table."""
    schemas = _raw_column_schemas()

    def add(spec: dg.AssetSpec) -> dg.AssetSpec:
        name = str(spec.metadata.get("raw_table", "")).removeprefix(f"{RAW_SCHEMA}.")
        return spec.merge_attributes(metadata=_table_metadata(schemas, name)) if name in schemas else spec

    return list(dg.map_asset_specs(add, assets))


def unlanded_sources(assets: Iterable[dg.AssetsDefinition]) -> list[dg.AssetSpec]:
    """External specs for the raw tables dbt reads that no asset here materializes."""
    assets = list(assets)
    schemas = _raw_column_schemas()
    defined = {key for a in assets for key in a.keys}
    specs: dict[dg.AssetKey, dg.AssetSpec] = {}
    for assets_def in assets:
        for spec in assets_def.specs:
            for dep in spec.deps:
                if dep.asset_key in defined or dep.asset_key in specs:
                    continue
                specs[dep.asset_key] = dg.AssetSpec(
                    dep.asset_key,
                    description=(
                        f"Raw table `{dep.asset_key.to_user_string()}` that the dbt models read; "
                        "no connector in this code location lands it yet, so it stays empty."
                    ),
                    group_name=SOURCES_GROUP,
                    owners=[OWNER],
                    kinds={"duckdb"},
                    metadata=dict(dep.metadata or {}),
                )
                # Raw tables are named <source>_<table> (ingestion/raw_tables.py).
                name = "_".join(dep.asset_key.path)
                if name in schemas:
                    specs[dep.asset_key] = specs[dep.asset_key].merge_attributes(
                        metadata=_table_metadata(schemas, name)
                    )
    return list(specs.values())
