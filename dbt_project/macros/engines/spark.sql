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

{# ------------------------------------------------------------------- types #}

{# Spark's names: no `double precision`, no `timestamp with time zone` (its timestamp is one: an instant shown in the session's zone). #}
{% macro spark__type_double() -%}
    double
{%- endmacro %}

{% macro spark__type_timestamptz() -%}
    timestamp
{%- endmacro %}

{# ------------------------------------------------------------------- JSON #}

{#
    Raw payloads are JSON text. get_json_object reads plain paths; a path with
    a [*] wildcard is split at it, because get_json_object unwraps a wildcard
    that matches one element (and quotes it), where DuckDB always gives a list.
    from_json(..., 'array<string>') keeps objects and arrays as JSON text and
    strings unquoted, as DuckDB's json_extract_string does.
#}
{% macro spark__json_text(json_expr, path) -%}
    get_json_object({{ json_expr }}, '{{ path }}')
{%- endmacro %}

{#
    A key present with JSON null counts; get_json_object cannot tell that from
    a missing key, so the last key is looked up among its parent's keys.
#}
{% macro spark__json_has(json_expr, path) -%}
    {%- set parent, _, key = path.rpartition('.') -%}
    {%- if key and '[' not in key and parent -%}
        coalesce(array_contains(json_object_keys(get_json_object({{ json_expr }}, '{{ parent }}')), '{{ key }}'), false)
    {%- else -%}
        (get_json_object({{ json_expr }}, '{{ path }}') is not null)
    {%- endif -%}
{%- endmacro %}

{# The elements of the array at the part of `path` before [*], as JSON text; the rest of the path. #}
{% macro spark__json_wildcard_parts(path) -%}
    {%- set head, wildcard, rest = path.partition('[*]') -%}
    {%- if not wildcard -%}
        {%- do exceptions.raise_compiler_error("JSON path " ~ path ~ " has no [*] wildcard") -%}
    {%- endif -%}
    {{ return([head, '$' ~ rest]) }}
{%- endmacro %}

{% macro spark__json_array_elements(json_expr, array_path) -%}
    from_json(get_json_object({{ json_expr }}, '{{ array_path }}'), 'array<string>')
{%- endmacro %}

{% macro spark__json_string_list(json_expr, path) -%}
    {%- set head, rest = spark__json_wildcard_parts(path) -%}
    {%- if rest == '$' -%}
        {{ spark__json_array_elements(json_expr, head) }}
    {%- else -%}
        transform({{ spark__json_array_elements(json_expr, head) }}, element -> get_json_object(element, '{{ rest }}'))
    {%- endif -%}
{%- endmacro %}

{% macro spark__json_array(json_expr, path) -%}
    {{ spark__json_string_list(json_expr, path) }}
{%- endmacro %}

{% macro spark__json_array_find_text(json_expr, array_path, match_key, match_value, text_key) -%}
    {%- set head, rest = spark__json_wildcard_parts(array_path) -%}
    get_json_object(
        filter(
            {{ spark__json_array_elements(json_expr, head) }},
            element -> get_json_object(element, '$.{{ match_key }}') = '{{ match_value }}'
        )[0],
        '$.{{ text_key }}'
    )
{%- endmacro %}

{#
    The values of every field of `fields` (JSON text, in the payload's order);
    those that are arrays give their elements; objects with an id, a boardId
    and a state are sprints.
#}
{% macro spark__jira_sprint_objects(payload) -%}
    filter(
        flatten(
            transform(
                map_values(from_json(get_json_object({{ payload }}, '$.fields'), 'map<string,string>')),
                field_value -> case
                    when left(ltrim(field_value), 1) = '[' then coalesce(from_json(field_value, 'array<string>'), array())
                    else cast(array() as array<string>)
                end
            )
        ),
        element -> left(ltrim(element), 1) = '{'
        and get_json_object(element, '$.boardId') is not null
        and get_json_object(element, '$.state') is not null
        and get_json_object(element, '$.id') is not null
    )
{%- endmacro %}

{# ------------------------------------------------------------------ lists #}

{# Spark allows one generator per select, as the dispatchers require. #}
{% macro spark__unnest_list(list_expr) -%}
    explode({{ list_expr }})
{%- endmacro %}

{% macro spark__unnest_with_positions(list_expr, element_name, position_name) -%}
    inline(transform({{ list_expr }}, (element, position) -> named_struct(
        '{{ element_name }}', element, '{{ position_name }}', position + 1
    )))
{%- endmacro %}

{# split() takes a regular expression: the delimiter is quoted (\Q...\E). #}
{% macro spark__delimiter_regex(delimiter) -%}
    '\\Q{{ delimiter }}\\E'
{%- endmacro %}

{% macro spark__split_to_rows(string_expr, delimiter) -%}
    explode(split({{ string_expr }}, {{ spark__delimiter_regex(delimiter) }}))
{%- endmacro %}

{% macro spark__split_to_array(string_expr, delimiter) -%}
    split({{ string_expr }}, {{ spark__delimiter_regex(delimiter) }})
{%- endmacro %}

{% macro spark__split_to_list(string_expr, delimiter) -%}
    filter(
        transform(split(coalesce({{ string_expr }}, ''), {{ spark__delimiter_regex(delimiter) }}), part -> trim(part)),
        part -> part <> ''
    )
{%- endmacro %}

{# Spark has no array_to_string; array_join skips nulls, as DuckDB's does. #}
{% macro spark__list_join(list_expr, delimiter_sql) -%}
    array_join({{ list_expr }}, {{ delimiter_sql }})
{%- endmacro %}

{# Not array_except, which also drops duplicates. #}
{% macro spark__list_except(list_expr, other_list_expr) -%}
    filter({{ list_expr }}, element -> not array_contains({{ other_list_expr }}, element))
{%- endmacro %}

{# Exact, linear interpolation between the closest ranks: DuckDB's quantile_cont. #}
{% macro spark__percentile(expr, fraction) -%}
    percentile(cast({{ expr }} as double), {{ fraction }})
{%- endmacro %}

{# ------------------------------------------------------------- timestamps #}

{#
    Jira's offsets without a colon (+0200), with or without milliseconds.
    ANSI mode is off (dbt-spark), so a failed parse is null: anything else
    raises instead, naming the value, as DuckDB's strptime does.
#}
{% macro spark__parse_jira_timestamp(expr) -%}
    case
        when {{ expr }} is null then cast(null as timestamp)
        else coalesce(
            to_timestamp({{ expr }}, "yyyy-MM-dd'T'HH:mm:ss[.SSS]Z"),
            cast(raise_error(concat('not a Jira timestamp: ', {{ expr }})) as timestamp)
        )
    end
{%- endmacro %}

{% macro spark__parse_iso_timestamp(expr) -%}
    case
        when {{ expr }} is null then cast(null as timestamp)
        else coalesce(
            cast({{ expr }} as timestamp),
            cast(raise_error(concat('not an ISO 8601 timestamp: ', {{ expr }})) as timestamp)
        )
    end
{%- endmacro %}

{# The session time zone is UTC (profiles.yml): shift to the zone's wall clock, take its date. #}
{% macro spark__local_date(ts, time_zone) -%}
    to_date(from_utc_timestamp({{ ts }}, {{ time_zone }}))
{%- endmacro %}

{% macro spark__utc_midnight(date_expr) -%}
    cast(cast({{ date_expr }} as date) as timestamp)
{%- endmacro %}

{# Exact elapsed time in whole microseconds, divided in double precision as DuckDB does. #}
{% macro spark__microseconds_between(start_ts, end_ts) -%}
    cast(unix_micros(cast({{ end_ts }} as timestamp)) - unix_micros(cast({{ start_ts }} as timestamp)) as double)
{%- endmacro %}

{% macro spark__date_series(start_date, end_date, step) -%}
    explode(sequence(cast({{ start_date }} as date), cast({{ end_date }} as date), interval {{ step }}))
{%- endmacro %}

{% macro spark__year_month_label(date_expr) -%}
    date_format({{ date_expr }}, 'yyyy-MM')
{%- endmacro %}

{#
    Session confs of the spark target (profiles.yml): references to the dbt
    process's environment that Spark resolves, so no value is ever in SQL.
    An unset variable leaves the reference itself: null then, as elsewhere.
#}
{% macro spark__session_conf(name, env_variable) -%}
    nullif(nullif('${spark.productops.{{ name }}}', ''), concat('$', '{env:{{ env_variable }}}'))
{%- endmacro %}

{% macro spark__session_as_of_date() -%}
    cast({{ spark__session_conf('as_of', 'PRODUCTOPS_AS_OF') }} as date)
{%- endmacro %}

{% macro spark__session_salt() -%}
    {{ spark__session_conf('salt', 'PRODUCTOPS_SALT') }}
{%- endmacro %}

{# ---------------------------------------------------------------- strings #}

{% macro spark__text_starts_with(string_expr, prefix_expr) -%}
    startswith({{ string_expr }}, {{ prefix_expr }})
{%- endmacro %}

{# ------------------------------------------------------------ incremental #}

{#
    Spark's Parquet tables take no DELETE or UPDATE, so the incremental models
    are rebuilt in full on every run (the same rows as DuckDB's incremental
    build: DuckDB's replace_partitions strategy is defined to equal a full
    build). is_incremental() is false on Spark (macros/incremental.sql), so
    the models select everything; the pre- and post-hooks have nothing to do.
#}
{% macro spark__delete_rows_of_other_rules(rules_hash_sql) -%}
{%- endmacro %}

{% macro spark__flag_removed_usage_events() -%}
{%- endmacro %}

{% macro spark__replace_partitions_sql(arg_dict) -%}
    {%- do exceptions.raise_compiler_error('replace_partitions is not used on Spark: incremental models build as tables') -%}
{%- endmacro %}

{% materialization incremental, adapter='spark' -%}
    {{ return(materialization_table_spark()) }}
{%- endmaterialization %}

{#
    md5 of the rows, order-independent: Spark's listagg takes no order, so the
    rows are sorted in an array first (array_sort, then array_join).
#}
{% macro spark__rows_fingerprint(relation, columns) -%}
    (
        select coalesce(array_join(array_sort(collect_list(row_text)), '|'), '')
        from (
            select
                {%- for column in columns %}
                coalesce(cast({{ column }} as string), '~'){{ " || '#' ||" if not loop.last }}
                {%- endfor %} as row_text
            from {{ relation }}
        ) as fingerprinted_rows
    )
{%- endmacro %}

{# dbt's is_incremental(), false on Spark: there every incremental model builds as a table (above). #}
{% macro is_incremental() -%}
    {%- if target.type == 'spark' -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(dbt.is_incremental()) }}
{%- endmacro %}

{# ------------------------------------------------------------------ seeds #}

{#
    dbt-spark's seed loader binds values by Python string formatting on the
    session method, and an empty cell arrives as the text 'None'. This one
    writes each value as a SQL literal: an empty cell is null, as on DuckDB.
#}
{% macro spark__load_csv_rows(model, agate_table) -%}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for column_name in agate_table.column_names -%}
                    {%- set column_type = column_override.get(column_name, adapter.convert_type(agate_table, loop.index0)) -%}
                    cast({{ spark__seed_literal(row[loop.index0]) }} as {{ column_type }}){{ ', ' if not loop.last }}
                {%- endfor -%}){{ ',' if not loop.last }}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- do statements.append(sql) -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{%- endmacro %}

{# A seed cell as a Spark SQL literal (backslashes escape in Spark's string literals). #}
{% macro spark__seed_literal(value) -%}
    {%- if value is none -%}
        null
    {%- elif value is sameas true or value is sameas false -%}
        {{ 'true' if value else 'false' }}
    {%- elif value is number -%}
        {{ value }}
    {%- else -%}
        '{{ (value | string) | replace('\\', '\\\\') | replace("'", "\\'") }}'
    {%- endif -%}
{%- endmacro %}

{#
    A seed is one Parquet file written in file order (one insert), which
    monotonically_increasing_id() follows within a file.
#}
{% macro spark__row_number_in_load_order() -%}
    row_number() over (order by monotonically_increasing_id())
{%- endmacro %}
