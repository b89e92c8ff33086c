{#
    List helpers. Lists stay lists on every engine (DuckDB lists, PostgreSQL
    arrays, Spark arrays); each operation is dispatched (duckdb__ here,
    postgres__ / spark__ in macros/engines/). Generators (unnest_*,
    split_to_rows) are select-list expressions: one per select.
#}

{# One row per element of a list (select-list expression). #}
{% macro unnest_list(list_expr) -%}
    {{ return(adapter.dispatch('unnest_list', 'productops')(list_expr)) }}
{%- endmacro %}

{% macro duckdb__unnest_list(list_expr) -%}
    unnest({{ list_expr }})
{%- endmacro %}

{#
    One row per element of a list with its 1-based position: a select-list
    fragment that defines both columns (`<element> as element_name,
    <position> as position_name`).
#}
{% macro unnest_with_positions(list_expr, element_name, position_name) -%}
    {{ return(adapter.dispatch('unnest_with_positions', 'productops')(list_expr, element_name, position_name)) }}
{%- endmacro %}

{% macro duckdb__unnest_with_positions(list_expr, element_name, position_name) -%}
    unnest({{ list_expr }}) as {{ element_name }},
    unnest(generate_series(1, len({{ list_expr }}))) as {{ position_name }}
{%- endmacro %}

{# One row per part of a delimited string (select-list expression). #}
{% macro split_to_rows(string_expr, delimiter) -%}
    {{ return(adapter.dispatch('split_to_rows', 'productops')(string_expr, delimiter)) }}
{%- endmacro %}

{% macro duckdb__split_to_rows(string_expr, delimiter) -%}
    unnest(string_split({{ string_expr }}, '{{ delimiter }}'))
{%- endmacro %}

{# Every part of a delimited string, as a list of strings (untrimmed, empties kept). #}
{% macro split_to_array(string_expr, delimiter) -%}
    {{ return(adapter.dispatch('split_to_array', 'productops')(string_expr, delimiter)) }}
{%- endmacro %}

{% macro duckdb__split_to_array(string_expr, delimiter) -%}
    string_split({{ string_expr }}, '{{ delimiter }}')
{%- endmacro %}

{#
    The non-empty, trimmed parts of a delimited string, as a list of strings
    (an empty list for null or ''), e.g. Jira's sprint field history "55, 56".
#}
{% macro split_to_list(string_expr, delimiter) -%}
    {{ return(adapter.dispatch('split_to_list', 'productops')(string_expr, delimiter)) }}
{%- endmacro %}

{% macro duckdb__split_to_list(string_expr, delimiter) -%}
    list_filter(
        list_transform(string_split(coalesce({{ string_expr }}, ''), '{{ delimiter }}'), lambda part: trim(part)),
        lambda part: part <> ''
    )
{%- endmacro %}

{# The elements of one list that the other lacks (order kept). #}
{% macro list_except(list_expr, other_list_expr) -%}
    {{ return(adapter.dispatch('list_except', 'productops')(list_expr, other_list_expr)) }}
{%- endmacro %}

{% macro duckdb__list_except(list_expr, other_list_expr) -%}
    list_filter({{ list_expr }}, lambda element: not list_contains({{ other_list_expr }}, element))
{%- endmacro %}

{# The elements of a list joined into one string with a delimiter (SQL text), the same text on every engine. #}
{% macro list_join(list_expr, delimiter_sql) -%}
    {{ return(adapter.dispatch('list_join', 'productops')(list_expr, delimiter_sql)) }}
{%- endmacro %}

{% macro default__list_join(list_expr, delimiter_sql) -%}
    array_to_string({{ list_expr }}, {{ delimiter_sql }})
{%- endmacro %}

{# A comma-separated SQL list of lower-cased string literals from a dbt var (plain SQL, every engine). #}
{% macro lower_string_literals(values) -%}
    {%- for value in values -%}
        '{{ dbt.escape_single_quotes(value | lower) }}'{{ ", " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{# Exact percentile (continuous, linear interpolation) of a numeric expression: an aggregate, never a window. #}
{% macro percentile(expr, fraction) -%}
    {{ return(adapter.dispatch('percentile', 'productops')(expr, fraction)) }}
{%- endmacro %}

{% macro duckdb__percentile(expr, fraction) -%}
    quantile_cont({{ expr }}, {{ fraction }})
{%- endmacro %}
