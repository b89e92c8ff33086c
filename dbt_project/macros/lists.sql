{# List and JSON-array helpers (DuckDB list functions). #}

{# All string values a JSON path with a [*] wildcard selects, as varchar[]. #}
{% macro json_string_list(json_expr, path) -%}
    json_extract_string({{ json_expr }}, '{{ path }}')
{%- endmacro %}

{# The elements of a JSON array at a path, as json[] (unnest it for rows). #}
{% macro json_array(json_expr, path) -%}
    json_extract({{ json_expr }}, '{{ path }}')
{%- endmacro %}

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

{#
    Okta System Log: displayName of the first AppInstance entry of target[],
    wherever it sits in the array.
#}
{% macro okta_app_instance_name(payload) -%}
    json_extract_string({{ payload }}, '$.target[*].displayName')[
        list_position(json_extract_string({{ payload }}, '$.target[*].type'), 'AppInstance')
    ]
{%- endmacro %}

{# Exact percentile (continuous) of a numeric expression. #}
{% macro percentile(expr, fraction) -%}
    quantile_cont({{ expr }}, {{ fraction }})
{%- endmacro %}
