{#
    Timestamp and date helpers. Everything is stored as UTC; dbt's
    cross-database macros do the work where one exists, and what differs by
    engine (parsing Jira's offsets, time zone conversion, date series, exact
    elapsed time, the session's as-of date) is dispatched: duckdb__ here,
    postgres__ / spark__ in macros/engines/.
#}

{#
    Jira Cloud writes offsets without a colon, e.g. 2024-03-31T10:00:00.000+0200.
    Parses to an absolute instant (timestamp with time zone); the offset is
    honoured, so daylight-saving changes are exact. Fails on anything else
    rather than guessing.
#}
{% macro parse_jira_timestamp(expr) -%}
    {{ return(adapter.dispatch('parse_jira_timestamp', 'productops')(expr)) }}
{%- endmacro %}

{% macro duckdb__parse_jira_timestamp(expr) -%}
    strptime({{ expr }}, ['%Y-%m-%dT%H:%M:%S.%g%z', '%Y-%m-%dT%H:%M:%S%z'])
{%- endmacro %}

{# ISO 8601 with Z or an offset with colon (GitHub, Okta, Linear, Jira sprints). #}
{% macro parse_iso_timestamp(expr) -%}
    {{ return(adapter.dispatch('parse_iso_timestamp', 'productops')(expr)) }}
{%- endmacro %}

{% macro default__parse_iso_timestamp(expr) -%}
    cast({{ expr }} as timestamp with time zone)
{%- endmacro %}

{# The calendar date of an instant as seen in an IANA time zone. #}
{% macro local_date(ts, time_zone) -%}
    {{ return(adapter.dispatch('local_date', 'productops')(ts, time_zone)) }}
{%- endmacro %}

{% macro duckdb__local_date(ts, time_zone) -%}
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
    the session's as-of setting that the pipeline sets from PRODUCTOPS_AS_OF
    (macro session_as_of_date: a new date never defeats dbt's partial
    parsing), else the current date (UTC: the profile pins the session time
    zone).
#}
{% macro today() -%}
    {%- set as_of_date = var('as_of_date', none) -%}
    {%- if as_of_date -%}
        cast('{{ as_of_date }}' as date)
    {%- else -%}
        coalesce({{ session_as_of_date() }}, current_date)
    {%- endif -%}
{%- endmacro %}

{#
    The as-of date the pipeline set on the session, or null: DuckDB variable
    productops_as_of (orchestration/dbt_salt.py), Postgres setting
    productops.as_of (PGOPTIONS).
#}
{% macro session_as_of_date() -%}
    {{ return(adapter.dispatch('session_as_of_date', 'productops')()) }}
{%- endmacro %}

{% macro duckdb__session_as_of_date() -%}
    cast(getvariable('productops_as_of') as date)
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
    ({{ microseconds_between(start_ts, end_ts) }} / 3600000000.0)
{%- endmacro %}

{% macro days_between(start_ts, end_ts) -%}
    ({{ microseconds_between(start_ts, end_ts) }} / 86400000000.0)
{%- endmacro %}

{# The engine-specific part: whole microseconds between two instants. #}
{% macro microseconds_between(start_ts, end_ts) -%}
    {{ return(adapter.dispatch('microseconds_between', 'productops')(start_ts, end_ts)) }}
{%- endmacro %}

{% macro duckdb__microseconds_between(start_ts, end_ts) -%}
    {{ compact(dbt.datediff(start_ts, end_ts, 'microsecond')) }}
{%- endmacro %}

{# Whole days from one date to another, as a bigint on every engine (PostgreSQL's date - date is an integer). #}
{% macro days_from(start_date, end_date) -%}
    cast({{ compact(dbt.datediff(start_date, end_date, 'day')) }} as {{ dbt.type_bigint() }})
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
    {{ return(adapter.dispatch('date_series', 'productops')(start_date, end_date, step)) }}
{%- endmacro %}

{% macro duckdb__date_series(start_date, end_date, step) -%}
    cast(unnest(generate_series(cast({{ start_date }} as timestamp), cast({{ end_date }} as timestamp), interval {{ step }})) as date)
{%- endmacro %}

{# Midnight UTC at the start of a date, as an instant. #}
{% macro utc_midnight(date_expr) -%}
    {{ return(adapter.dispatch('utc_midnight', 'productops')(date_expr)) }}
{%- endmacro %}

{% macro duckdb__utc_midnight(date_expr) -%}
    timezone('UTC', cast({{ date_expr }} as timestamp))
{%- endmacro %}

{# A month as text, e.g. 2024-03 (period labels). #}
{% macro year_month_label(date_expr) -%}
    {{ return(adapter.dispatch('year_month_label', 'productops')(date_expr)) }}
{%- endmacro %}

{% macro duckdb__year_month_label(date_expr) -%}
    strftime({{ date_expr }}, '%Y-%m')
{%- endmacro %}
