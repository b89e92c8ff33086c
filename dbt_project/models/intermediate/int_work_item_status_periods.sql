/*
    grain: one span of time a work item spent in one raw status

    The first span runs from creation to the first transition, in that
    transition's from-status (or the current status when there is none); each
    transition opens a span that the next one closes. The open span of the
    current status has period_end null.
*/
with

work_items as (

    select * from {{ ref('int_work_items') }}

),

status_changes as (

    select * from {{ ref('int_status_changes') }}

),

status_categories as (

    select * from {{ ref('int_status_categories') }}

),

current_statuses as (

    select
        work_items.source,
        work_items.work_item_id,
        work_items.created_at,
        work_items.current_status,
        status_categories.status_category as current_category

    from work_items

    left join status_categories
        on
            work_items.source = status_categories.source
            and work_items.container = status_categories.project
            and work_items.item_type = status_categories.issue_type
            and work_items.current_status = status_categories.raw_status

),

first_changes as (

    select *

    from status_changes

    where sequence_number = 1

),

initial_periods as (

    select
        current_statuses.source,
        current_statuses.work_item_id,
        0 as sequence_number,
        current_statuses.created_at as period_start,
        first_changes.changed_at as period_end,
        case
            when first_changes.work_item_id is null then current_statuses.current_status
            else first_changes.from_status
        end as raw_status,
        case
            when first_changes.work_item_id is null then current_statuses.current_category
            else first_changes.from_category
        end as status_category

    from current_statuses

    left join first_changes
        on
            current_statuses.source = first_changes.source
            and current_statuses.work_item_id = first_changes.work_item_id

),

change_periods as (

    select
        source,
        work_item_id,
        sequence_number,
        changed_at as period_start,
        lead(changed_at) over (
            partition by source, work_item_id order by sequence_number
        ) as period_end,
        to_status as raw_status,
        to_category as status_category

    from status_changes

),

final as (

    select * from initial_periods
    union all
    select * from change_periods

)

select * from final
