{#
    Incremental builds of the large facts and of the intermediate models that
    parse raw JSON histories.

    Every incremental model carries two bookkeeping columns:
      _loaded_at   the latest raw _loaded_at among the row's inputs. The
                   largest value in the table is the high-water mark: the next
                   run reprocesses what was loaded at or after it, minus an
                   optional lag (var incremental_lookback_minutes, 0 by
                   default). Loading time, not event time, so late events (old
                   timestamps, new loads) are picked up whatever their date.
                   The raw layer has one writer and runs go one at a time, so
                   the mark is exact; a lag is for loaders whose transactions
                   can commit out of order (dlt's incremental `lag`).
      _rules_hash  a fingerprint of the rules the row was computed with: the
                   reference data (status mapping, roster, ownership, tool
                   aliases, ...) and the SQL of the model and of its upstream
                   models. A pre-hook deletes rows computed under other rules,
                   so an edited seed or a new release rebuilds the model on
                   the next run, exactly as --full-refresh would. Models
                   compute it once, in a one-row CTE: as an expression per
                   row, DuckDB may evaluate its subqueries for every row.
    A table built before these columns existed is rebuilt in place: the
    columns are appended (on_schema_change='append_new_columns') and, with no
    high-water mark, every row is reprocessed.
#}

{# Whether the existing table has a column (false on a full build). #}
{% macro incremental_target_has_column(column) -%}
    {%- if not (is_incremental() and execute) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
    {{ return(column | lower in columns) }}
{%- endmacro %}

{# The high-water mark minus the lag, as a scalar subquery (null when the table is empty). #}
{% macro incremental_watermark() -%}
    (
        select {{ minus_lookback('max(_loaded_at)') }}
        from {{ this }}
    )
{%- endmacro %}

{#
    A load time minus var incremental_lookback_minutes. At 0 (the default) the
    time itself: a lookback of days made the run after a first full load
    recompute every row (43-75 % of the full run at M).
#}
{% macro minus_lookback(loaded_at) -%}
    {%- set minutes = var('incremental_lookback_minutes') | int -%}
    {%- if minutes > 0 -%}
        {{ dbt.dateadd('minute', -1 * minutes, loaded_at) }}
    {%- else -%}
        {{ loaded_at }}
    {%- endif -%}
{%- endmacro %}

{#
    A filter: the row was loaded at or after the watermark. Always true on a
    full build and when the table is empty (e.g. just reset by a rules change).
#}
{% macro loaded_since_watermark(column) -%}
    {%- if incremental_target_has_column('_loaded_at') -%}
        ({{ incremental_watermark() }} is null or {{ column }} >= {{ incremental_watermark() }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#
    Pre-hook: drop the rows computed under other rules. Skipped on full builds
    and when the table predates the column.
#}
{% macro delete_rows_of_other_rules(rules_hash_sql) -%}
    {{ return(adapter.dispatch('delete_rows_of_other_rules', 'productops')(rules_hash_sql)) }}
{%- endmacro %}

{% macro default__delete_rows_of_other_rules(rules_hash_sql) -%}
    {%- if incremental_target_has_column('_rules_hash') -%}
        delete from {{ this }} where _rules_hash is distinct from ({{ rules_hash_sql }})
    {%- endif -%}
{%- endmacro %}

{#
    Custom incremental strategy "replace_partitions": the model returns every
    row of each partition (unique_key: a work item, a day) it recomputed, plus
    one tombstone row per recomputed partition with _loaded_at null. All target
    rows of those partitions are deleted, then the real rows inserted, so a
    partition that lost rows (or all of them) ends up exactly as a full build
    would leave it.
#}
{% macro get_incremental_replace_partitions_sql(arg_dict) -%}
    {{ return(adapter.dispatch('replace_partitions_sql', 'productops')(arg_dict)) }}
{%- endmacro %}

{% macro default__replace_partitions_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set keys = arg_dict['unique_key'] -%}
    {%- if keys is string -%}
        {%- set keys = [keys] -%}
    {%- endif -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}

    delete from {{ target }} as target_rows
    where exists (
        select 1
        from {{ source }} as new_rows
        where
            {% for key in keys -%}
                new_rows.{{ key }} = target_rows.{{ key }}{{ ' and ' if not loop.last }}
            {%- endfor %}
    );

    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ source }}
    where _loaded_at is not null
{%- endmacro %}

{# ------------------------------------------------------ fingerprints of rules #}

{#
    md5 of a relation's rows (the given columns), order-independent.
#}
{% macro rows_fingerprint(relation, columns) -%}
    {{ return(adapter.dispatch('rows_fingerprint', 'productops')(relation, columns)) }}
{%- endmacro %}

{% macro default__rows_fingerprint(relation, columns) -%}
    (
        select coalesce({{ dbt.listagg('row_text', "'|'", 'order by row_text') }}, '')
        from (
            select
                {%- for column in columns %}
                coalesce(cast({{ column }} as {{ dbt.type_string() }}), '~'){{ " || '#' ||" if not loop.last }}
                {%- endfor %} as row_text
            from {{ relation }}
        ) as fingerprinted_rows
    )
{%- endmacro %}

{% macro roster_fingerprint() -%}
    {{ rows_fingerprint(ref('int_people__team_periods'),
        ['person_id', 'email', 'team_id', 'role', 'valid_from', 'valid_to', 'github_login', 'jira_account_id',
         list_join('other_ids', "'|'")]) }}
{%- endmacro %}

{% macro tool_alias_fingerprint() -%}
    {{ rows_fingerprint(ref('int_tool_aliases'), ['alias', 'tool_id']) }}
{%- endmacro %}

{#
    Fingerprint of the code a model runs: the SQL of the model and of every
    model upstream of it (sha256 checksums from dbt's graph, so the same
    release gives the same value everywhere). dbt's graph does not expose
    macro bodies: after changing a macro that shapes an incremental model's
    rows, run it once with --full-refresh.
#}
{% macro code_fingerprint() -%}
    {%- set nodes = graph.get('nodes', {}) if execute else {} -%}
    {%- if not nodes -%}
        {{ return('') }}
    {%- endif -%}
    {%- set node_ids = [model.unique_id] -%}
    {%- set parts = [] -%}
    {#- the list grows while it is walked: a breadth-first walk of the graph -#}
    {%- for node_id in node_ids -%}
        {%- set node = nodes.get(node_id) -%}
        {%- if node is not none -%}
            {%- do parts.append(node_id ~ '=' ~ node.checksum.checksum) -%}
            {%- for parent_id in node.depends_on.nodes -%}
                {%- if parent_id.startswith('model.') and parent_id not in node_ids -%}
                    {%- do node_ids.append(parent_id) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(local_md5(parts | sort | join(';'))) }}
{%- endmacro %}

{# The rules hash of the model being built: its code plus the given data fingerprints. #}
{% macro rules_hash(data_fingerprints=[]) -%}
    {{ dbt.hash(dbt.concat(["'" ~ code_fingerprint() ~ "'"] + data_fingerprints)) }}
{%- endmacro %}

{% macro github_labels_literal() -%}
    '{{ dbt.escape_single_quotes(var('github_in_progress_labels') | join('|') | lower) }}'
{%- endmacro %}

{# What the status history of a work item is read with: categories, names, teams, GitHub labels. #}
{% macro status_history_rules_hash() -%}
    {{ rules_hash([
        rows_fingerprint(ref('status_mapping'), ['source', 'project', 'issue_type', 'raw_status', 'status_category']),
        rows_fingerprint(ref('stg_jira__statuses'), ['status_id', 'status_name', 'status_category_key']),
        rows_fingerprint(ref('int_linear__states'), ['state_id', 'state_name', 'state_type']),
        rows_fingerprint(ref('ownership'), ['source', 'container', 'team_id']),
        roster_fingerprint(),
        github_labels_literal(),
    ]) }}
{%- endmacro %}

{# What GitHub issue events are read with. #}
{% macro github_rules_hash() -%}
    {{ rules_hash([github_labels_literal()]) }}
{%- endmacro %}

{# What tool usage events are matched with: the tool catalog. #}
{% macro tool_usage_events_rules_hash() -%}
    {{ rules_hash([tool_alias_fingerprint()]) }}
{%- endmacro %}

{# What daily tool usage is counted with: the tool catalog and the roster. #}
{% macro tool_usage_daily_rules_hash() -%}
    {{ rules_hash([tool_alias_fingerprint(), roster_fingerprint()]) }}
{%- endmacro %}

{# What Jira changelog histories are parsed with: the code alone. #}
{% macro jira_history_rules_hash() -%}
    {{ rules_hash([]) }}
{%- endmacro %}

{#
    Post-hook of int_tool_usage_events: a usage file landed again (its content
    changed) replaces its earlier rows in raw. Its events that are no longer
    there are flagged is_removed with a fresh _loaded_at, so the days they fell
    on are recounted. Only the files landed since the high-water mark, or gone
    from raw altogether, are compared, so the cost follows what was loaded.
    (Okta's System Log only grows.)
#}
{% macro flag_removed_usage_events() -%}
    {{ return(adapter.dispatch('flag_removed_usage_events', 'productops')()) }}
{%- endmacro %}

{% macro default__flag_removed_usage_events() -%}
    update {{ this }} as built
    set
        is_removed = true,
        _loaded_at = {{ dbt.current_timestamp() }}
    where
        built.event_source = 'usage_log'
        and not built.is_removed
        and built.event_key in (
            with

            landed as (

                select * from {{ ref('stg_usage__events') }}

            ),

            replaced_files as (

                select landed.source_file

                from landed

                where landed.loaded_at >= (
                    select {{ minus_lookback('max(kept._loaded_at)') }}
                    from {{ this }} as kept
                    where not kept.is_removed
                )

                union

                select kept.source_file

                from {{ this }} as kept

                where
                    kept.event_source = 'usage_log'
                    -- not exists, not `not in`: Postgres cannot turn `not in (subquery)` into an
                    -- anti-join, and re-scans the subquery per row once it outgrows work_mem
                    -- (hours at 5 M events); a null file would also make `not in` match nothing.
                    and not exists (
                        select 1
                        from landed as still_there
                        where still_there.source_file = kept.source_file
                    )

            )

            select kept.event_key

            from {{ this }} as kept

            where
                kept.event_source = 'usage_log'
                and kept.source_file in (select replaced_files.source_file from replaced_files)

            except

            select landed.event_key

            from landed

            where landed.source_file in (select replaced_files.source_file from replaced_files)
        )
{%- endmacro %}
