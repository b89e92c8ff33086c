{#
    Timestamp and date helpers. Everything is stored as UTC; these macros keep
    the DuckDB-specific functions in one place.
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

{# ISO 8601 with Z or an offset with colon (GitHub, Okta, Linear). #}
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

{# Monday of the ISO week of a date. #}
{% macro week_start(date_expr) -%}
    cast({{ dbt.date_trunc('week', date_expr) }} as date)
{%- endmacro %}

{# First day of the month of a date. #}
{% macro month_start(date_expr) -%}
    cast({{ dbt.date_trunc('month', date_expr) }} as date)
{%- endmacro %}

{# Exact elapsed hours between two instants (fractional). #}
{% macro hours_between(start_ts, end_ts) -%}
    ((epoch({{ end_ts }}) - epoch({{ start_ts }})) / 3600.0)
{%- endmacro %}

{# Exact elapsed days between two instants (fractional). #}
{% macro days_between(start_ts, end_ts) -%}
    ((epoch({{ end_ts }}) - epoch({{ start_ts }})) / 86400.0)
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
