{#
    on-run-start: make the raw tables the sources name readable by the engine.
    DuckDB and Postgres read the tables the loader or the shipper wrote;
    Spark declares them over the raw Parquet version that
    ingestion/destinations/spark.py switched in (spark__prepare_raw_relations).
#}
{% macro prepare_raw_relations() -%}
    {{ return(adapter.dispatch('prepare_raw_relations', 'productops')()) }}
{%- endmacro %}

{% macro default__prepare_raw_relations() -%}
{%- endmacro %}
