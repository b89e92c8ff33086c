{#
    Timestamp and date helpers. Everything is stored as UTC; dbt's
    cross-database macros do the work where one exists, and what DuckDB alone
    offers (parsing Jira's offsets, time zone conversion, date series) stays in
    this file.
#}

{#
    Jira Cloud writes offsets without a colon, e.g. 2024-03-31T10:00:00.000+0200.
    Parses to an absolute instant (timestamp with time zone); the offset is
    honoured, so daylight-saving changes are exact. Fails on anything else
    rather than guessing.
#}
{% macro parse_jira_timestamp(expr) -%}
    strptime({{ expr }}, ['%Y-%m-%dT%H:%M:%S.%g%z', '%Y-%m-%dT%H:%M:%S%z'])
{%- endmacro %}

{# ISO 8601 with Z or an offset with colon (GitHub, Okta, Linear, Jira sprints). #}
{% macro parse_iso_timestamp(expr) -%}
    cast({{ expr }} as timestamp with time zone)
{%- endmacro %}

{# The calendar date of an instant as seen in an IANA time zone. #}
{% macro local_date(ts, time_zone) -%}
    cast(timezone({{ time_zone }}, {{ ts }}) as date)
{%- endmacro %}

{# The UTC calendar date of an instant. #}
{% macro utc_date(ts) -%}
    {{ local_date(ts, "'UTC'") }}
{%- endmacro %}

{#
    The run's as-of date: what "today" means for every time-relative column, so
    two runs with the same data and as-of date build identical marts. In order:
    var as_of_date (unit tests; `dbt build --vars '{as_of_date: 2026-11-20}'`),
    the DuckDB variable productops_as_of that the pipeline sets from
    PRODUCTOPS_AS_OF (orchestration/dbt_salt.py: a new date never defeats
    dbt's partial parsing), else the current date (UTC: the profile pins the
    session time zone).
#}
{% macro today() -%}
    {%- set as_of_date = var('as_of_date', none) -%}
    {%- if as_of_date -%}
        cast('{{ as_of_date }}' as date)
    {%- else -%}
        coalesce(cast(getvariable('productops_as_of') as date), current_date)
    {%- endif -%}
{%- endmacro %}

{#
    The run's as-of instant: midnight UTC at the start of the as-of date (the
    demo's data ends just before it). Ages are taken at it (age_days), and
    something that started later that day is 0 days old, never negative.
#}
{% macro as_of_timestamp() -%}
    {{ utc_midnight(today()) }}
{%- endmacro %}

{# Days from an instant to the as-of instant, 0 for an instant after it. #}
{% macro age_days(ts, at=none) -%}
    greatest({{ days_between(ts, at or as_of_timestamp()) }}, 0)
{%- endmacro %}

{# Monday of the ISO week of a date. #}
{% macro week_start(date_expr) -%}
    cast({{ dbt.date_trunc('week', date_expr) }} as date)
{%- endmacro %}

{# First day of the month of a date. #}
{% macro month_start(date_expr) -%}
    cast({{ dbt.date_trunc('month', date_expr) }} as date)
{%- endmacro %}

{#
    Exact elapsed hours / days between two instants (fractional), counted in
    microseconds. dbt-duckdb's datediff reads instants as UTC wall-clock
    times, which is exact because the profile pins the session to UTC.
#}
{% macro hours_between(start_ts, end_ts) -%}
    ({{ compact(dbt.datediff(start_ts, end_ts, 'microsecond')) }} / 3600000000.0)
{%- endmacro %}

{% macro days_between(start_ts, end_ts) -%}
    ({{ compact(dbt.datediff(start_ts, end_ts, 'microsecond')) }} / 86400000000.0)
{%- endmacro %}

{# Whole days from one date to another. #}
{% macro days_from(start_date, end_date) -%}
    {{ compact(dbt.datediff(start_date, end_date, 'day')) }}
{%- endmacro %}

{# SQL text on one line (dbt's macros render with line breaks). #}
{% macro compact(sql) -%}
    {{ sql.split() | join(' ') }}
{%- endmacro %}

{#
    One row per step between two dates (inclusive), as a select-list
    expression: use in a select with the bounds in the from clause.
#}
{% macro date_series(start_date, end_date, step) -%}
    cast(unnest(generate_series(cast({{ start_date }} as timestamp), cast({{ end_date }} as timestamp), interval {{ step }})) as date)
{%- endmacro %}

{# Midnight UTC at the start of a date, as an instant. #}
{% macro utc_midnight(date_expr) -%}
    timezone('UTC', cast({{ date_expr }} as timestamp))
{%- endmacro %}
