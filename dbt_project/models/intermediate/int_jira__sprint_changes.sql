{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='change_id',
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_rows_of_other_rules(jira_history_rules_hash()) }}",
    )
}}
/*
    grain: one change of one Jira issue's sprint field (a changelog item with field Sprint)

    from / to hold the comma-separated ids of every sprint the issue was in
    before and after ("55" → "55, 56" when a completed sprint carries the issue
    over). Incremental like int_jira__status_transitions: histories never
    change, so only the ones loaded since the high-water mark are parsed.
*/
with

rules as (

    -- the rules the rows are computed with (macros/incremental.sql), computed once
    select {{ jira_history_rules_hash() }} as rules_hash

),

changelogs as (

    select * from {{ ref('stg_jira__changelogs') }}

),

sprint_items as (

    select
        issue_id,
        change_item_id,
        history_id,
        item_index,
        changed_at,
        from_value,
        to_value,
        loaded_at

    from changelogs

    where
        -- Jira's locked Sprint field: the name is fixed, the custom field id varies by site
        lower(field) = 'sprint'
        and {{ loaded_since_watermark('loaded_at') }}

),

final as (

    select
        issue_id,
        change_item_id as change_id,
        changed_at,
        {{ dbt.safe_cast("history_id", dbt.type_bigint()) }} as sort_key,
        item_index as sort_subkey,
        {{ split_to_list('from_value', ',') }} as from_sprint_ids,
        {{ split_to_list('to_value', ',') }} as to_sprint_ids,
        loaded_at as _loaded_at,
        (select rules.rules_hash from rules) as _rules_hash

    from sprint_items

)

select * from final
