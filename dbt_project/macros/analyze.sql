{#
    Fresh statistics for a table the build just wrote, before the next model reads it.
    PostgreSQL plans a query on a table it has never analyzed with guessed row counts, and
    autovacuum analyzes new tables only a minute or so later: sprint_predictability, planned
    on its inputs before that, ran for many minutes (nested loops) where it takes a second.
    DuckDB and Spark keep their statistics themselves: nothing there.
#}
{% macro analyze_after_build(relation) -%}
    {{ return(adapter.dispatch('analyze_after_build', 'productops')(relation)) }}
{%- endmacro %}

{% macro default__analyze_after_build(relation) -%}
    {{ return('') }}
{%- endmacro %}

{% macro postgres__analyze_after_build(relation) -%}
    {%- if config.get('materialized') in ('table', 'incremental', 'seed') -%}
        analyze {{ relation }}
    {%- endif -%}
{%- endmacro %}
