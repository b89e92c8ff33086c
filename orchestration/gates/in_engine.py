"""A table suite evaluated as SQL by the warehouse itself: no copy of the batch into pandas.

Each expectation becomes a count of the rows it checks and of the rows that
break it, with Great Expectations' own semantics, so a failure reads the same
as when GX validates the batch in pandas (`source_gates.validate`, which the
tests compare against):

- a row condition filters the rows first; the rows left are the ones checked;
- map expectations (in set, regex, between) leave nulls out; not-null counts them;
- a uniqueness expectation counts every copy of a repeated value (pandas'
  `duplicated(keep=False)`), nulls left out; a compound key leaves out rows whose
  columns are all null and treats nulls alike, as pandas does;
- a regex is searched for, not matched whole; `$` also matches before a final
  newline, as in Python;
- a sample lists the first unexpected values in the batch's order.

All counts come from one aggregate over the batch (a uniqueness check adds one
grouped scan); the sample query runs only for an expectation that failed.
"""

from __future__ import annotations

from typing import Any

import duckdb

from orchestration.gates.expectations import NOT_NULL, SENSITIVE_COLUMNS, Expectation, TableSuite

PARTIAL_UNEXPECTED = 20  # as `partial_unexpected_count` in the GX result format


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: Any, params: list[Any]) -> str:
    params.append(value)
    return "?"


def _condition(expectation: Expectation, params: list[Any]) -> str:
    parts = []
    for column, value in expectation.row_condition:
        if value is NOT_NULL:
            parts.append(f"{_ident(column)} is not null")
        else:
            parts.append(f"{_ident(column)} = {_literal(value, params)}")
    return " and ".join(parts) or "true"


def _python_regex(pattern: str) -> str:
    """RE2 reads `$` as the end of the text; Python's also matches before a final newline."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        return pattern[:-1] + "\\n?$"
    return pattern


def _unexpected(expectation: Expectation, params: list[Any]) -> str:
    """The predicate of a row that breaks a map expectation."""
    column = _ident(expectation.column or "")
    kind = expectation.type
    if kind == "expect_column_values_to_not_be_null":
        return f"{column} is null"
    if kind == "expect_column_values_to_be_in_set":
        values = ", ".join(_literal(v, params) for v in expectation.value_set)
        return f"{column} is not null and {column} not in ({values})" if values else f"{column} is not null"
    if kind == "expect_column_values_to_match_regex":
        pattern = _literal(_python_regex(expectation.regex or ""), params)
        return f"{column} is not null and not regexp_matches(cast({column} as varchar), {pattern})"
    if kind == "expect_column_values_to_be_between":
        bounds = []
        if expectation.min_value is not None:
            bounds.append(f"{column} >= {_literal(expectation.min_value, params)}")
        if expectation.max_value is not None:
            bounds.append(f"{column} <= {_literal(expectation.max_value, params)}")
        return f"{column} is not null and not ({' and '.join(bounds) or 'true'})"
    raise ValueError(f"no SQL for expectation type {kind}")


def _key_columns(expectation: Expectation) -> list[str]:
    return list(expectation.column_list) or [expectation.column or ""]


def _is_unique(expectation: Expectation) -> bool:
    return expectation.type in ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique")


def _key_present(expectation: Expectation) -> str:
    # One column: nulls left out. Several: only rows whose columns are all null.
    joiner = " or " if expectation.column_list else " and "
    return "(" + joiner.join(f"{_ident(c)} is not null" for c in _key_columns(expectation)) + ")"


def _counts_sql(expectation: Expectation, params: list[Any]) -> tuple[str, str]:
    """(rows checked, rows unexpected) as aggregate expressions over `batch`."""
    # Each use of a condition binds its own parameters, in the order of the SQL text.
    checked = f"count(*) filter (where {_condition(expectation, params)})"
    if _is_unique(expectation):
        # Every row of a repeated key: the sizes of the groups of more than one row.
        repeated = (
            f"(select coalesce(sum(n), 0) from (select count(*) as n from batch "
            f"where {_condition(expectation, params)} and {_key_present(expectation)} "
            f"group by {', '.join(_ident(c) for c in _key_columns(expectation))} having count(*) > 1))"
        )
        return checked, repeated
    condition = _condition(expectation, params)
    return checked, f"count(*) filter (where ({condition}) and ({_unexpected(expectation, params)}))"


def _counts(
    con: duckdb.DuckDBPyConnection, query: str, expectations: list[Expectation]
) -> list[tuple[int, int]]:
    params: list[Any] = []
    columns = []
    for expectation in expectations:
        checked, unexpected = _counts_sql(expectation, params)
        columns += [checked, unexpected]
    row = con.execute(f"with batch as ({query}) select {', '.join(columns)} from batch", params).fetchall()[0]
    return [(int(row[i]), int(row[i + 1])) for i in range(0, len(row), 2)]


def _sample_values(con: duckdb.DuckDBPyConnection, query: str, expectation: Expectation) -> list[Any]:
    """The first unexpected values in the batch's order (a tuple per row for a compound key)."""
    params: list[Any] = []
    columns = _key_columns(expectation)
    selected = ", ".join(_ident(c) for c in columns)
    if _is_unique(expectation):
        keys = ", ".join(_ident(c) for c in columns)
        sql = (
            f"with batch as ({query}), "
            f"numbered as (select {selected}, row_number() over () as seq from batch "
            f"where {_condition(expectation, params)} and {_key_present(expectation)}), "
            f"counted as (select *, count(*) over (partition by {keys}) as copies from numbered) "
            f"select {selected} from counted where copies > 1 order by seq limit {PARTIAL_UNEXPECTED}"
        )
    else:
        where = f"({_condition(expectation, params)}) and ({_unexpected(expectation, params)})"
        sql = f"with batch as ({query}) select {selected} from batch where {where} limit {PARTIAL_UNEXPECTED}"
    rows = con.execute(sql, params).fetchall()
    return [row if expectation.column_list else row[0] for row in rows]


def sample_text(kind: str, column: str | None, values: list[Any], sample_size: int, scrub) -> list[str]:
    """The first few distinct unexpected values as text, scrubbed; never nulls or identities."""
    if "not_be_null" in kind or column in SENSITIVE_COLUMNS:
        return []
    shown: list[str] = []
    for value in values:
        text = ", ".join(f"{v}" for v in value) if isinstance(value, tuple) else f"{value}"
        text = scrub(text)[:40]
        if text not in shown:
            shown.append(text)
        if len(shown) == sample_size:
            break
    return shown


def evaluate(
    con: duckdb.DuckDBPyConnection, suite: TableSuite, query: str, sample_size: int, scrub
) -> list[dict[str, Any]]:
    """The failed expectations of the batch `query` selects, in the suite's order."""
    try:
        counts: list[tuple[int, int] | str] = list(_counts(con, query, suite.expectations))
    except duckdb.Error:
        # One expectation the batch cannot answer (a missing column, a wrong type): find which.
        counts = []
        for expectation in suite.expectations:
            try:
                counts.append(_counts(con, query, [expectation])[0])
            except duckdb.Error as exc:
                counts.append(str(exc).splitlines()[0])
    failures = []
    for expectation, outcome in zip(suite.expectations, counts, strict=True):
        failure = {
            "expectation": expectation.type,
            "description": expectation.description,
            "column": expectation.column,
            "unexpected": 0,
            "checked": 0,
            "sample": [],
            "error": None,
        }
        if isinstance(outcome, str):
            failures.append({**failure, "error": outcome})
            continue
        checked, unexpected = outcome
        if not unexpected:
            continue
        values = [] if "not_be_null" in expectation.type else _sample_values(con, query, expectation)
        sample = sample_text(expectation.type, expectation.column, values, sample_size, scrub)
        failures.append({**failure, "unexpected": unexpected, "checked": checked, "sample": sample})
    return failures
