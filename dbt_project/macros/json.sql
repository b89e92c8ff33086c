{#
    JSON access. Paths are JSONPath strings such as '$.fields.status.id'.
    Every model reads JSON through these macros (dispatched per engine:
    duckdb__ here, postgres__ / spark__ in macros/engines/), so a port to
    another warehouse adds implementations, not model edits.
#}

{# The text value at a path (null when absent or JSON null). #}
{% macro json_text(json_expr, path) -%}
    {{ return(adapter.dispatch('json_text', 'productops')(json_expr, path)) }}
{%- endmacro %}

{% macro duckdb__json_text(json_expr, path) -%}
    json_extract_string({{ json_expr }}, '{{ path }}')
{%- endmacro %}

{# Whether a path holds a value (JSON null counts as a value, as a missing key does not). #}
{% macro json_has(json_expr, path) -%}
    {{ return(adapter.dispatch('json_has', 'productops')(json_expr, path)) }}
{%- endmacro %}

{% macro duckdb__json_has(json_expr, path) -%}
    (json_extract({{ json_expr }}, '{{ path }}') is not null)
{%- endmacro %}

{# All string values a JSON path with a [*] wildcard selects, as a list of strings. #}
{% macro json_string_list(json_expr, path) -%}
    {{ return(adapter.dispatch('json_string_list', 'productops')(json_expr, path)) }}
{%- endmacro %}

{% macro duckdb__json_string_list(json_expr, path) -%}
    json_extract_string({{ json_expr }}, '{{ path }}')
{%- endmacro %}

{# The elements of a JSON array at a path ending in [*], as a list of JSON values (unnest it for rows). #}
{% macro json_array(json_expr, path) -%}
    {{ return(adapter.dispatch('json_array', 'productops')(json_expr, path)) }}
{%- endmacro %}

{% macro duckdb__json_array(json_expr, path) -%}
    json_extract({{ json_expr }}, '{{ path }}')
{%- endmacro %}

{#
    The text at `text_key` of the first element of the JSON array at
    `array_path` (ending in [*]) whose `match_key` equals `match_value`, e.g.
    Okta's first AppInstance target: the element itself is found first, so
    a sibling without the text key never shifts the result.
#}
{% macro json_array_find_text(json_expr, array_path, match_key, match_value, text_key) -%}
    {{ return(adapter.dispatch('json_array_find_text', 'productops')(
        json_expr, array_path, match_key, match_value, text_key)) }}
{%- endmacro %}

{% macro duckdb__json_array_find_text(json_expr, array_path, match_key, match_value, text_key) -%}
    json_extract_string(
        list_filter(
            json_extract({{ json_expr }}, '{{ array_path }}'),
            lambda element: json_extract_string(element, '$.{{ match_key }}') = '{{ match_value }}'
        )[1],
        '$.{{ text_key }}'
    )
{%- endmacro %}

{#
    Jira sprint objects of an issue payload, as a list of JSON objects: the
    elements of every field of the issue whose value is an array of sprint
    objects (an object with an id, a boardId and a state). Jira sites name the
    sprint field differently (customfield_10020 on most Cloud sites); the
    connector requests it by its schema, and this finds it by its shape, so no
    site-specific id is needed.
#}
{% macro jira_sprint_objects(payload) -%}
    {{ return(adapter.dispatch('jira_sprint_objects', 'productops')(payload)) }}
{%- endmacro %}

{% macro duckdb__jira_sprint_objects(payload) -%}
    list_filter(
        flatten(
            list_transform(
                json_extract({{ payload }}, '$.fields.*'),
                lambda field_value: case
                    when json_type(field_value) = 'ARRAY' then json_extract(field_value, '$[*]')
                    else []
                end
            )
        ),
        lambda element: json_type(element) = 'OBJECT'
        and json_extract_string(element, '$.boardId') is not null
        and json_extract_string(element, '$.state') is not null
        and json_extract_string(element, '$.id') is not null
    )
{%- endmacro %}
