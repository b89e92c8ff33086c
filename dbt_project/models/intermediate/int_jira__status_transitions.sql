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
    grain: one status change of one Jira issue (a changelog item with field status)

    Incremental: changelog histories never change once written, so each run
    parses only the histories loaded since the high-water mark (minus the
    lookback window) and replaces them by change_id. Histories of deleted
    issues stay here; every consumer joins int_work_items, which holds only
    the issues that still exist.
*/
with

rules as (

    -- the rules the rows are computed with (macros/incremental.sql), computed once
    select {{ jira_history_rules_hash() }} as rules_hash

),

changelogs as (

    select * from {{ ref('stg_jira__changelogs') }}

),

status_items as (

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
        -- field ids are stable; the field name is the fallback of older payloads
        coalesce(field_id, field) = 'status'
        and {{ loaded_since_watermark('loaded_at') }}

),

final as (

    select
        'jira' as source,
        issue_id as work_item_id,
        change_item_id as change_id,
        changed_at,
        -- read by status id, never by the (renameable, localised) name
        from_value as from_status,
        to_value as to_status,
        {{ dbt.safe_cast("history_id", dbt.type_bigint()) }} as sort_key,
        item_index as sort_subkey,
        loaded_at as _loaded_at,
        (select rules.rules_hash from rules) as _rules_hash

    from status_items

)

select * from final
