{#
    A row's 1-based position in the order a relation's rows were loaded (a
    seed's file order), as a window expression. DuckDB and PostgreSQL keep it
    in `row_number() over ()`; Spark wants an ordered window
    (spark__row_number_in_load_order).
#}
{% macro row_number_in_load_order() -%}
    {{ return(adapter.dispatch('row_number_in_load_order', 'productops')()) }}
{%- endmacro %}

{% macro default__row_number_in_load_order() -%}
    row_number() over ()
{%- endmacro %}
