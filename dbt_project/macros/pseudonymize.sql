{#
    Salted hash of a person identifier (usually an email). The salt is the
    DuckDB variable productops_salt, set on connection by the pipeline's
    dbt-duckdb plugin from the environment; it is never written in SQL.
#}
{% macro pseudonymize(expr) -%}
    md5(coalesce(getvariable('productops_salt'), '') || lower({{ expr }}))
{%- endmacro %}
