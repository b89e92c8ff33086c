{#
    JSON access (DuckDB's JSON extension). Paths are JSONPath strings such as
    '$.fields.status.id'. Every model reads JSON through these macros, so a
    port to another warehouse rewrites this file, not the models.
#}

{# The text value at a path (null when absent or JSON null). #}
{% macro json_text(json_expr, path) -%}
    json_extract_string({{ json_expr }}, '{{ path }}')
{%- endmacro %}

{# The JSON value at a path, still JSON (objects and arrays). #}
{% macro json_value(json_expr, path) -%}
    json_extract({{ json_expr }}, '{{ path }}')
{%- endmacro %}

{# All string values a JSON path with a [*] wildcard selects, as varchar[]. #}
{% macro json_string_list(json_expr, path) -%}
    json_extract_string({{ json_expr }}, '{{ path }}')
{%- endmacro %}

{# The elements of a JSON array at a path, as json[] (unnest it for rows). #}
{% macro json_array(json_expr, path) -%}
    json_extract({{ json_expr }}, '{{ path }}')
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

{#
    Jira sprint objects of an issue payload, as json[]: the elements of every
    field of the issue whose value is an array of sprint objects (an object with
    an id, a boardId and a state). Jira sites name the sprint field differently
    (customfield_10020 on most Cloud sites); the connector requests it by its
    schema, and this finds it by its shape, so no site-specific id is needed.
#}
{% macro jira_sprint_objects(payload) -%}
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
