{#
    Spark implementations (dbt-spark, Spark SQL 4) of the macros dispatched
    in dbt_project/macros/*.sql. Spark runs with ANSI mode off (dbt-spark
    forces it), so a failed cast gives null as on DuckDB's try_cast; the
    macros cast explicitly wherever DuckDB and Spark would differ.
#}

{# ----------------------------------------------------------------- raw layer #}

{#
    Every source table in schema raw, as an external Parquet table over the
    raw version `current` points at (shipped by ingestion/destinations/spark.py
    before dbt starts). Re-declared each run: a new column in a raw table
    reaches Spark's catalog, and dropping an external table keeps its files.
#}
{% macro spark__prepare_raw_relations() -%}
    {%- if execute -%}
        {%- set raw_dir = env_var('PRODUCTOPS_SPARK_DIR', '../warehouse/spark') ~ '/raw/current' -%}
        {%- set declared = [] -%}
        {%- do run_query('create database if not exists raw') -%}
        {%- for source in graph.sources.values() | sort(attribute='identifier') -%}
            {%- if source.schema == 'raw' and source.identifier not in declared -%}
                {%- do declared.append(source.identifier) -%}
                {%- do run_query('drop table if exists raw.' ~ source.identifier) -%}
                {%- do run_query(
                    'create table raw.' ~ source.identifier ~ ' using parquet location '
                    ~ "'" ~ raw_dir ~ '/' ~ source.identifier ~ "'"
                ) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
