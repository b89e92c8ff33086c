{#
    PostgreSQL implementations of the dispatched macros (the list and what
    each does: macros/engines/README.md). Raw payloads are jsonb; DuckDB
    lists are PostgreSQL arrays (text[], jsonb[]). JSON paths are the same
    JSONPath strings DuckDB reads: PostgreSQL's SQL/JSON path language takes
    them as they are ('$.a.b', '$.a[*].b').
#}

{# ------------------------------------------------------------------ JSON #}

{% macro postgres__json_text(json_expr, path) -%}
    (jsonb_path_query_first({{ json_expr }}, '{{ path }}') #>> '{}')
{%- endmacro %}

{% macro postgres__json_has(json_expr, path) -%}
    jsonb_path_exists({{ json_expr }}, '{{ path }}')
{%- endmacro %}

{% macro postgres__json_string_list(json_expr, path) -%}
    array(
        select matched.value #>> '{}'
        from jsonb_path_query({{ json_expr }}, '{{ path }}') with ordinality as matched (value, position)
        order by matched.position
    )
{%- endmacro %}

{% macro postgres__json_array(json_expr, path) -%}
    array(
        select matched.value
        from jsonb_path_query({{ json_expr }}, '{{ path }}') with ordinality as matched (value, position)
        order by matched.position
    )
{%- endmacro %}

{% macro postgres__json_array_find_text(json_expr, array_path, match_key, match_value, text_key) -%}
    (jsonb_path_query_first(
        {{ json_expr }}, '{{ array_path }} ? (@.{{ match_key }} == "{{ match_value }}")'
    ) ->> '{{ text_key }}')
{%- endmacro %}

{#
    Strict mode: a field that is not an array contributes nothing (lax mode
    would wrap an object as a one-element array). A missing key inside a
    filter is "unknown", so the object is left out, as DuckDB's null test does.
#}
{% macro postgres__jira_sprint_objects(payload) -%}
    array(
        select matched.value
        from jsonb_path_query(
            {{ payload }},
            'strict $.fields.* ? (@.type() == "array")[*] ? (@.type() == "object" && @.boardId != null && @.state != null && @.id != null)',
            '{}',
            true
        ) with ordinality as matched (value, position)
        order by matched.position
    )
{%- endmacro %}

{# ----------------------------------------------------------------- lists #}

{% macro postgres__unnest_list(list_expr) -%}
    unnest({{ list_expr }})
{%- endmacro %}

{# Two set-returning functions in one select list run in lockstep (PostgreSQL 10+). #}
{% macro postgres__unnest_with_positions(list_expr, element_name, position_name) -%}
    unnest({{ list_expr }}) as {{ element_name }},
    generate_series(1, cardinality({{ list_expr }})) as {{ position_name }}
{%- endmacro %}

{% macro postgres__split_to_rows(string_expr, delimiter) -%}
    unnest(string_to_array({{ string_expr }}, '{{ delimiter }}'))
{%- endmacro %}

{% macro postgres__split_to_array(string_expr, delimiter) -%}
    string_to_array({{ string_expr }}, '{{ delimiter }}')
{%- endmacro %}

{% macro postgres__split_to_list(string_expr, delimiter) -%}
    array(
        select trim(parts.part)
        from unnest(string_to_array(coalesce({{ string_expr }}, ''), '{{ delimiter }}')) with ordinality as parts (part, position)
        where trim(parts.part) <> ''
        order by parts.position
    )
{%- endmacro %}

{% macro postgres__list_except(list_expr, other_list_expr) -%}
    array(
        select elements.element
        from unnest({{ list_expr }}) with ordinality as elements (element, position)
        where not (elements.element = any({{ other_list_expr }}))
        order by elements.position
    )
{%- endmacro %}

{# An ordered-set aggregate: percentile_cont(f) within group (order by x); never a window function. #}
{% macro postgres__percentile(expr, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expr }})
{%- endmacro %}

{# ------------------------------------------------------------ timestamps #}

{#
    Jira's offsets without a colon (+0200). PostgreSQL's cast reads them, but
    also much else: anything not in Jira's shape is made to fail, naming the
    value, rather than guessed.
#}
{% macro postgres__parse_jira_timestamp(expr) -%}
    case
        when {{ expr }} ~ '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{4}$'
            then cast({{ expr }} as timestamp with time zone)
        when {{ expr }} is not null
            then cast('not a Jira timestamp: ' || {{ expr }} as timestamp with time zone)
    end
{%- endmacro %}

{% macro postgres__local_date(ts, time_zone) -%}
    cast((cast({{ ts }} as timestamp with time zone) at time zone {{ time_zone }}) as date)
{%- endmacro %}

{# Set by the pipeline through PGOPTIONS (-c productops.as_of=YYYY-MM-DD). #}
{% macro postgres__session_as_of_date() -%}
    cast(nullif(current_setting('productops.as_of', true), '') as date)
{%- endmacro %}

{#
    Exact elapsed time: the interval's seconds (numeric, exact to the
    microsecond) as whole microseconds, then divided as DuckDB does, so both
    engines do the same float arithmetic.
#}
{% macro postgres__microseconds_between(start_ts, end_ts) -%}
    cast(extract(epoch from (cast({{ end_ts }} as timestamp with time zone) - cast({{ start_ts }} as timestamp with time zone))) * 1000000 as double precision)
{%- endmacro %}

{% macro postgres__date_series(start_date, end_date, step) -%}
    cast(generate_series(cast({{ start_date }} as timestamp), cast({{ end_date }} as timestamp), interval '{{ step }}') as date)
{%- endmacro %}

{% macro postgres__utc_midnight(date_expr) -%}
    (cast({{ date_expr }} as timestamp) at time zone 'UTC')
{%- endmacro %}

{% macro postgres__year_month_label(date_expr) -%}
    to_char({{ date_expr }}, 'YYYY-MM')
{%- endmacro %}

{# --------------------------------------------------------------- secrets #}

{# Set by the pipeline through PGOPTIONS (-c productops.salt=…): never in SQL, logs or target/. #}
{% macro postgres__session_salt() -%}
    current_setting('productops.salt', true)
{%- endmacro %}

{# --------------------------------------------------------------- numbers #}

{# round(double precision, int) does not exist: numeric rounding, exact in decimal. #}
{% macro postgres__round_to(expr, places) -%}
    round(cast({{ expr }} as numeric), {{ places }})
{%- endmacro %}

