"""Do the pipeline's marts and the baseline give the same numbers? Row by row.

Rows are matched on the mart's grain; every other column the baseline
computes must be equal (floats within a relative tolerance, nulls equal to
nulls). The result names the rows missing on either side and, per column,
how many rows differ and a few examples, so a difference can be traced.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

TOLERANCE = 1e-9  # relative, on doubles (hours, rates)
MARTS = {
    "delivery_weekly": ["team_id", "week_start"],
    "adoption_weekly": ["team_id", "tool_id", "week_start"],
}
EXAMPLES = 5


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str) -> dict[str, str]:
    rows = con.execute(
        """
        select column_name, data_type from information_schema.columns
        where table_catalog = ? and table_schema = ? and table_name = ? order by ordinal_position
        """,
        [catalog, schema, table],
    ).fetchall()
    return dict(rows)


def _differs(column: str, data_type: str) -> str:
    p, b = f"p.{column}", f"b.{column}"
    if data_type.upper() in ("DOUBLE", "FLOAT", "REAL") or data_type.upper().startswith("DECIMAL"):
        scale = f"greatest(1, abs({p}), abs({b}))"
        return f"(({p} is null) <> ({b} is null) or abs({p} - {b}) > {TOLERANCE} * {scale})"
    return f"({p} is distinct from {b})"


def compare(published: Path, baseline: Path) -> dict[str, Any]:
    """{mart: {rows_pipeline, rows_baseline, only_pipeline, only_baseline, columns: {...}, equal}}."""
    out: dict[str, Any] = {}
    con = duckdb.connect()
    try:
        con.execute(f"attach '{published}' as pipeline (read_only)")
        con.execute(f"attach '{baseline}' as baseline (read_only)")
        for mart, keys in MARTS.items():
            pipeline_cols = _columns(con, "pipeline", "marts", mart)
            baseline_cols = _columns(con, "baseline", "main", mart)
            shared = [c for c in baseline_cols if c in pipeline_cols and c not in keys]
            missing = [c for c in baseline_cols if c not in pipeline_cols]
            on = " and ".join(f"p.{k} = b.{k}" for k in keys)
            joined = f"pipeline.marts.{mart} as p full outer join baseline.main.{mart} as b on {on}"
            present = f"p.{keys[0]} is not null and b.{keys[0]} is not null"
            counts = con.execute(
                f"""
                select
                    count(p.{keys[0]}), count(b.{keys[0]}),
                    count(*) filter (where b.{keys[0]} is null),
                    count(*) filter (where p.{keys[0]} is null)
                from {joined}
                """
            ).fetchall()[0]
            columns: dict[str, Any] = {}
            for column in shared:
                test = _differs(column, pipeline_cols[column])
                bad = con.execute(f"select count(*) from {joined} where {present} and {test}").fetchall()[0][
                    0
                ]
                if bad:
                    key_list = ", ".join(f"p.{k}" for k in keys)
                    examples = con.execute(
                        f"""select {key_list}, p.{column}, b.{column} from {joined}
                            where {present} and {test} order by {key_list} limit {EXAMPLES}"""
                    ).fetchall()
                    columns[column] = {"rows": bad, "examples": [[str(v) for v in row] for row in examples]}
            only_examples = con.execute(
                f"""select 'pipeline only', {", ".join(f"p.{k}" for k in keys)} from {joined}
                    where b.{keys[0]} is null
                    union all
                    select 'baseline only', {", ".join(f"b.{k}" for k in keys)} from {joined}
                    where p.{keys[0]} is null
                    limit {EXAMPLES}"""
            ).fetchall()
            out[mart] = {
                "rows_pipeline": counts[0],
                "rows_baseline": counts[1],
                "only_pipeline": counts[2],
                "only_baseline": counts[3],
                "missing_columns": missing,
                "differing_columns": columns,
                "unmatched_examples": [[str(v) for v in row] for row in only_examples],
                "equal": counts[2] == 0 and counts[3] == 0 and not columns and not missing,
            }
    finally:
        con.close()
    return out
