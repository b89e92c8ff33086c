/*
    grain: one status transition of one work item, every tracker, categorised

    Categories come from int_status_categories (status_mapping seed, else the
    tracker default), the same place the current status reads them from.
*/
with

transitions as (

    select * from {{ ref('int_status_transitions') }}

),

work_items as (

    select * from {{ ref('int_work_items') }}

),

status_categories as (

    select * from {{ ref('int_status_categories') }}

),

final as (

    select
        transitions.source,
        transitions.work_item_id,
        transitions.change_id,
        transitions.sequence_number,
        transitions.changed_at,
        transitions.from_status,
        from_statuses.raw_status_name as from_status_name,
        from_statuses.status_category as from_category,
        transitions.to_status,
        to_statuses.raw_status_name as to_status_name,
        to_statuses.status_category as to_category,
        coalesce(
            from_statuses.status_category = 'done'
            and to_statuses.status_category <> 'done',
            false
        ) as is_reopen,
        transitions.loaded_at

    from transitions

    inner join work_items
        on
            transitions.source = work_items.source
            and transitions.work_item_id = work_items.work_item_id

    left join status_categories as from_statuses
        on
            work_items.source = from_statuses.source
            and work_items.container = from_statuses.project
            and work_items.item_type = from_statuses.issue_type
            and transitions.from_status = from_statuses.raw_status

    left join status_categories as to_statuses
        on
            work_items.source = to_statuses.source
            and work_items.container = to_statuses.project
            and work_items.item_type = to_statuses.issue_type
            and transitions.to_status = to_statuses.raw_status

)

select * from final
