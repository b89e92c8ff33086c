{#
    Override of dbt's global noop_statement (used only by the seed
    materialization). dbt writes a seed's "runtime SQL" to
    target/run/<project>/<seed path>; when PRODUCTOPS_SEEDS_DIR is an absolute
    path outside the project, that path is the seed CSV itself, and dbt-duckdb's
    COPY statement overwrites the organisation's CSV. Seeds skip the write;
    everything else behaves as the global macro.
#}
{% macro noop_statement(name=None, message=None, code=None, rows_affected=None, res=None) -%}
    {%- set sql = caller() -%}

    {%- if name == 'main' and model['resource_type'] != 'seed' -%}
        {{ log('Writing runtime SQL for node "{}"'.format(model['unique_id'])) }}
        {{ write(sql) }}
    {%- endif -%}

    {%- if name is not none -%}
        {{ store_raw_result(name, message=message, code=code, rows_affected=rows_affected, agate_table=res) }}
    {%- endif -%}
{%- endmacro %}
