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
    two runs with the same data and as-of date give identical marts. The
    pipeline records it and hands it over as the DuckDB variable
    productops_as_of (orchestration/dbt_salt.py, from PRODUCTOPS_AS_OF; the
    UTC date of the run by default). Without the variable: the current date.
#}
{% macro today() -%}
    coalesce(cast(getvariable('productops_as_of') as date), current_date)
{%- endmacro %}

{# "Now" for ages and spans still running: the end of the as-of date (UTC), after every landed instant. #}
{% macro as_of_instant() -%}
    {{ utc_midnight(today() ~ " + 1") }}
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
