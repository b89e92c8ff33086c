{#
    A double-precision float. dbt.type_float() is single precision on DuckDB
    (FLOAT = REAL), too coarse for hours and rates; the marts' contracts say
    double.
#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'productops')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{# An absolute instant (every timestamp of the warehouse is one, stored in UTC). #}
{% macro type_timestamptz() -%}
    {{ return(adapter.dispatch('type_timestamptz', 'productops')()) }}
{%- endmacro %}

{% macro default__type_timestamptz() -%}
    timestamp with time zone
{%- endmacro %}
