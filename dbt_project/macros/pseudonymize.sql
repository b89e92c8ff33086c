{#
    Salted hash of a person identifier (usually an email): md5 as lower-case
    hex, the same value on every engine. The salt is a session setting the
    pipeline sets from the environment, never written in SQL or target/:
    DuckDB variable productops_salt (the dbt-duckdb plugin
    orchestration/dbt_salt.py), Postgres setting productops.salt (PGOPTIONS,
    orchestration/dbt_setup.py).
#}
{% macro pseudonymize(expr) -%}
    md5(coalesce({{ session_salt() }}, '') || lower({{ expr }}))
{%- endmacro %}

{# The session's salt (null when unset). #}
{% macro session_salt() -%}
    {{ return(adapter.dispatch('session_salt', 'productops')()) }}
{%- endmacro %}

{% macro duckdb__session_salt() -%}
    getvariable('productops_salt')
{%- endmacro %}
