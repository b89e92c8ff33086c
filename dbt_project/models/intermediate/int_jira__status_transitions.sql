-- grain: one status change of one Jira issue (a changelog item with field status)
with

changelogs as (

    select * from {{ ref('stg_jira__changelogs') }}

),

issues as (

    select * from {{ ref('stg_jira__issues') }}

),

status_items as (

    select
        changelogs.issue_id,
        changelogs.change_item_id,
        changelogs.history_id,
        changelogs.item_index,
        changelogs.changed_at,
        changelogs.from_value,
        changelogs.to_value

    from changelogs

    -- field ids are stable; the field name is the fallback of older payloads
    where coalesce(changelogs.field_id, changelogs.field) = 'status'

),

final as (

    select
        'jira' as source,
        status_items.issue_id as work_item_id,
        status_items.change_item_id as change_id,
        status_items.changed_at,
        -- read by status id, never by the (renameable, localised) name
        status_items.from_value as from_status,
        status_items.to_value as to_status,
        {{ dbt.safe_cast("status_items.history_id", dbt.type_bigint()) }} as sort_key,
        status_items.item_index as sort_subkey

    from status_items

    -- only issues that still exist (deleted issues leave orphan histories)
    inner join issues
        on status_items.issue_id = issues.issue_id

)

select * from final
