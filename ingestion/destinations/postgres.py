"""Ship the staging DuckDB raw layer to PostgreSQL: schema `raw` on the server made equal to it.

Each raw table is created with PostgreSQL types read from DuckDB's catalog (JSON becomes
jsonb, so dbt's JSON macros can use SQL/JSON paths) and its primary key, then filled by
COPY from a CSV file DuckDB writes itself (no row-by-row inserts, no pandas). All tables
are replaced in ONE transaction: a crash or an error leaves the server exactly as it was,
and readers see either the old raw layer or the new one. Shipping the same staging file
twice gives the same server state.

A table whose columns still match is truncated and refilled (the dbt staging views over
it stay); one whose columns changed is dropped with what depends on it (dbt's staging
views, which the next `dbt build` recreates) and created anew.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg
from psycopg import sql

from ingestion.raw_tables import RAW_SCHEMA

COPY_CHUNK_BYTES = 1 << 20

# DuckDB type (as information_schema spells it) → PostgreSQL type.
_SIMPLE_TYPES = {
    "VARCHAR": "text",
    "BOOLEAN": "boolean",
    "TINYINT": "smallint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "HUGEINT": "numeric(39,0)",
    "UTINYINT": "smallint",
    "USMALLINT": "integer",
    "UINTEGER": "bigint",
    "UBIGINT": "numeric(20,0)",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "DATE": "date",
    "TIME": "time without time zone",
    "TIMESTAMP": "timestamp without time zone",
    "TIMESTAMP WITH TIME ZONE": "timestamp with time zone",
    "INTERVAL": "interval",
    "UUID": "uuid",
    "BLOB": "bytea",
    "JSON": "jsonb",
}
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")


class ShipError(RuntimeError):
    """The raw layer cannot be shipped as it is (an unknown table or an unmapped column type)."""


@dataclass(frozen=True)
class RawTable:
    name: str
    columns: list[tuple[str, str]]  # (name, PostgreSQL type), in DuckDB's order
    primary_key: list[str]


def postgres_type(duckdb_type: str, where: str) -> str:
    """The PostgreSQL type that holds every value of a DuckDB column type."""
    upper = duckdb_type.upper()
    if upper in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[upper]
    decimal = _DECIMAL.fullmatch(upper)
    if decimal:
        return f"numeric({decimal.group(1)},{decimal.group(2)})"
    raise ShipError(f"{where}: DuckDB type {duckdb_type} has no PostgreSQL counterpart in the raw layer")


def raw_tables(staging: duckdb.DuckDBPyConnection, tables: list[str] | None = None) -> list[RawTable]:
    """The staging file's raw tables (all of them, or the named ones) with PostgreSQL column types."""
    rows = staging.execute(
        """
        select table_name, column_name, data_type
        from information_schema.columns
        where table_schema = ? and table_catalog = current_database()
        order by table_name, ordinal_position
        """,
        [RAW_SCHEMA],
    ).fetchall()
    columns: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        columns.setdefault(table, []).append(
            (column, postgres_type(data_type, f"{RAW_SCHEMA}.{table}.{column}"))
        )
    if tables is not None:
        unknown = sorted(set(tables) - set(columns))
        if unknown:
            raise ShipError(f"no such raw table in the staging warehouse: {', '.join(unknown)}")
        columns = {name: columns[name] for name in tables}
    keys = staging.execute(
        """
        select table_name, constraint_column_names
        from duckdb_constraints()
        where schema_name = ? and constraint_type = 'PRIMARY KEY' and database_name = current_database()
        """,
        [RAW_SCHEMA],
    ).fetchall()
    primary_keys = {table: list(key_columns) for table, key_columns in keys}
    return [RawTable(name, cols, primary_keys.get(name, [])) for name, cols in sorted(columns.items())]


def _create_sql(table: RawTable) -> sql.Composed:
    parts = [
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(pg_type)) for name, pg_type in table.columns
    ]
    if table.primary_key:
        parts.append(
            sql.SQL("primary key ({})").format(sql.SQL(", ").join(map(sql.Identifier, table.primary_key)))
        )
    return sql.SQL("create table {}.{} ({})").format(
        sql.Identifier(RAW_SCHEMA), sql.Identifier(table.name), sql.SQL(", ").join(parts)
    )


def _server_columns(cur: psycopg.Cursor, table: str) -> list[tuple[str, str]]:
    cur.execute(
        """
        select attribute.attname, format_type(attribute.atttypid, attribute.atttypmod)
        from pg_attribute as attribute
        join pg_class as relation on relation.oid = attribute.attrelid
        join pg_namespace as namespace on namespace.oid = relation.relnamespace
        where namespace.nspname = %s and relation.relname = %s and relation.relkind = 'r'
            and attribute.attnum > 0 and not attribute.attisdropped
        order by attribute.attnum
        """,
        (RAW_SCHEMA, table),
    )
    return [(name, pg_type) for name, pg_type in cur.fetchall()]


def _server_primary_key(cur: psycopg.Cursor, table: str) -> list[str]:
    cur.execute(
        """
        select attribute.attname
        from pg_index as index
        join pg_class as relation on relation.oid = index.indrelid
        join pg_namespace as namespace on namespace.oid = relation.relnamespace
        cross join lateral unnest(index.indkey) with ordinality as key_column (attnum, position)
        join pg_attribute as attribute
            on attribute.attrelid = relation.oid and attribute.attnum = key_column.attnum
        where namespace.nspname = %s and relation.relname = %s and index.indisprimary
        order by key_column.position
        """,
        (RAW_SCHEMA, table),
    )
    return [name for (name,) in cur.fetchall()]


def _export_csv(staging: duckdb.DuckDBPyConnection, table: RawTable, folder: Path) -> Path:
    """DuckDB writes the table as CSV: NULL as an empty field, '' quoted, floats round-trip exact."""
    path = folder / f"{table.name}.csv"
    columns = ", ".join(f'"{name}"' for name, _ in table.columns)
    staging.execute(
        f"copy (select {columns} from {RAW_SCHEMA}.\"{table.name}\") to '{path}' (format csv, header true)"
    )
    return path


def ship_raw(staging: duckdb.DuckDBPyConnection, url: str, tables: list[str] | None = None) -> dict[str, int]:
    """Make schema `raw` on the PostgreSQL server at `url` equal to the staging raw layer.

    Returns the rows shipped per table. Either every table is replaced or, on any error,
    none is (one transaction).
    """
    selected = raw_tables(staging, tables)
    shipped: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="productops-ship-") as tmp:
        exports = {table.name: _export_csv(staging, table, Path(tmp)) for table in selected}
        with psycopg.connect(url) as conn, conn.cursor() as cur:
            cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(RAW_SCHEMA)))
            for table in selected:
                target = sql.SQL("{}.{}").format(sql.Identifier(RAW_SCHEMA), sql.Identifier(table.name))
                same_shape = _server_columns(cur, table.name) == table.columns and (
                    _server_primary_key(cur, table.name) == table.primary_key
                )
                if same_shape:
                    cur.execute(sql.SQL("truncate table {}").format(target))
                else:
                    cur.execute(sql.SQL("drop table if exists {} cascade").format(target))
                    cur.execute(_create_sql(table))
                columns = sql.SQL(", ").join(sql.Identifier(name) for name, _ in table.columns)
                copy_sql = sql.SQL("copy {} ({}) from stdin (format csv, header true)").format(
                    target, columns
                )
                with cur.copy(copy_sql) as copy, exports[table.name].open("rb") as csv_file:
                    while chunk := csv_file.read(COPY_CHUNK_BYTES):
                        copy.write(chunk)
                shipped[table.name] = cur.rowcount
            # psycopg's connection context commits here, or rolls back on any error above.
    return shipped
