{# List helpers (DuckDB list functions). #}

{# One row per element of a list (select-list expression). #}
{% macro unnest_list(list_expr) -%}
    unnest({{ list_expr }})
{%- endmacro %}

{# 1-based positions of a list, to unnest beside unnest_list. #}
{% macro list_positions(list_expr) -%}
    unnest(generate_series(1, len({{ list_expr }})))
{%- endmacro %}

{# One row per part of a delimited string (select-list expression). #}
{% macro split_to_rows(string_expr, delimiter) -%}
    unnest(string_split({{ string_expr }}, '{{ delimiter }}'))
{%- endmacro %}

{#
    The non-empty, trimmed parts of a delimited string, as varchar[] (an
    empty list for null or ''), e.g. Jira's sprint field history "55, 56".
#}
{% macro split_to_list(string_expr, delimiter) -%}
    list_filter(
        list_transform(string_split(coalesce({{ string_expr }}, ''), '{{ delimiter }}'), lambda part: trim(part)),
        lambda part: part <> ''
    )
{%- endmacro %}

{# The elements of one list that the other lacks. #}
{% macro list_except(list_expr, other_list_expr) -%}
    list_filter({{ list_expr }}, lambda element: not list_contains({{ other_list_expr }}, element))
{%- endmacro %}

{# Whether a list holds a value. #}
{% macro list_has(list_expr, value_expr) -%}
    list_contains({{ list_expr }}, {{ value_expr }})
{%- endmacro %}

{# Lower-cased string elements of a list. #}
{% macro lower_list(list_expr) -%}
    list_transform({{ list_expr }}, lambda x: lower(x))
{%- endmacro %}

{# A comma-separated SQL list of lower-cased string literals from a dbt var. #}
{% macro lower_string_literals(values) -%}
    {%- for value in values -%}
        '{{ dbt.escape_single_quotes(value | lower) }}'{{ ", " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{# Exact percentile (continuous) of a numeric expression. #}
{% macro percentile(expr, fraction) -%}
    quantile_cont({{ expr }}, {{ fraction }})
{%- endmacro %}
