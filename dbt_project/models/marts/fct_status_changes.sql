{{
    config(
        materialized='incremental',
        incremental_strategy='replace_partitions',
        unique_key=['source', 'work_item_id'],
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_rows_of_other_rules(status_history_rules_hash()) }}",
    )
}}
/*
    Incremental (macros/incremental.sql): each run replaces the whole history
    of the work items whose raw rows (issue, changelog, events) were loaded
    since the high-water mark, of every item still open (an open item counts
    for its assignee's team today, which moves with the roster), and clears
    the items that are gone. A changed status mapping, Jira status catalogue,
    Linear workflow, ownership, roster or in-progress label rebuilds it.
*/
with

rules as (

    -- the rules the rows are computed with (macros/incremental.sql), computed once
    select {{ status_history_rules_hash() }} as rules_hash

),

status_changes as (

    select * from {{ ref('int_status_changes') }}

),

work_items as (

    select * from {{ ref('int_work_items') }}

),

timings as (

    select * from {{ ref('int_work_item_timings') }}

),

item_teams as (

    select * from {{ ref('int_work_item_teams') }}

),

item_loads as (

    select
        source,
        work_item_id,
        max(loaded_at) as loaded_at

    from (
        select
            source,
            work_item_id,
            loaded_at

        from work_items

        union all

        select
            source,
            work_item_id,
            loaded_at

        from status_changes
    ) as loads

    group by source, work_item_id

),

changed_items as (

    select
        source,
        work_item_id

    from item_loads

    where {{ loaded_since_watermark('loaded_at') }}

    union

    -- an open item counts for its assignee's team today, which moves with the roster
    select
        source,
        work_item_id

    from timings

    where resolved_at is null

),

rebuilt as (

    select
        status_changes.source,
        status_changes.work_item_id,
        status_changes.change_id,
        cast(status_changes.sequence_number as {{ dbt.type_int() }}) as sequence_number,
        status_changes.changed_at,
        status_changes.from_status,
        status_changes.from_status_name,
        status_changes.from_category,
        status_changes.to_status,
        status_changes.to_status_name,
        status_changes.to_category,
        status_changes.is_reopen,
        item_teams.team_id,
        item_loads.loaded_at as _loaded_at,
        (select rules.rules_hash from rules) as _rules_hash

    from status_changes

    inner join changed_items
        on
            status_changes.source = changed_items.source
            and status_changes.work_item_id = changed_items.work_item_id

    inner join item_teams
        on
            status_changes.source = item_teams.source
            and status_changes.work_item_id = item_teams.work_item_id

    inner join item_loads
        on
            status_changes.source = item_loads.source
            and status_changes.work_item_id = item_loads.work_item_id

),

{% if is_incremental() %}

    tombstones as (

        -- clears every rebuilt item, and items that are gone
        select
            source,
            work_item_id

        from changed_items

        union

        select
            built.source,
            built.work_item_id

        from {{ this }} as built

        where not exists (
            select 1

            from work_items

            where
                work_items.source = built.source
                and work_items.work_item_id = built.work_item_id
        )

    ),

    final as (

        select * from rebuilt

        union all

        select
            source,
            work_item_id,
            cast(null as {{ dbt.type_string() }}) as change_id,
            cast(null as {{ dbt.type_int() }}) as sequence_number,
            cast(null as {{ type_timestamptz() }}) as changed_at,
            cast(null as {{ dbt.type_string() }}) as from_status,
            cast(null as {{ dbt.type_string() }}) as from_status_name,
            cast(null as {{ dbt.type_string() }}) as from_category,
            cast(null as {{ dbt.type_string() }}) as to_status,
            cast(null as {{ dbt.type_string() }}) as to_status_name,
            cast(null as {{ dbt.type_string() }}) as to_category,
            cast(null as boolean) as is_reopen,
            cast(null as {{ dbt.type_string() }}) as team_id,
            cast(null as {{ type_timestamptz() }}) as _loaded_at,
            cast(null as {{ dbt.type_string() }}) as _rules_hash

        from tombstones

    )

{% else %}

    final as (

        select * from rebuilt

    )

{% endif %}

select * from final
