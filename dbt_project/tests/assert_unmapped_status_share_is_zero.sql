{{ config(meta={'dagster': {'ref': {'name': 'int_status_categories'}}}) }}
-- The share of each tracker's work items that carry a status no rule maps
-- (now or anywhere in their history). DESIGN: a status is never guessed, so
-- any share above zero fails the build; the rows say how much is affected.
-- assert_every_status_is_mapped lists the statuses to add to the seed.
with

work_items as (

    select * from {{ ref('int_work_items') }}

),

transitions as (

    select * from {{ ref('int_status_transitions') }}

),

status_categories as (

    select * from {{ ref('int_status_categories') }}

),

unmapped_statuses as (

    select
        source,
        project,
        issue_type,
        raw_status

    from status_categories

    where status_category is null

),

item_statuses as (

    select
        source,
        work_item_id,
        container,
        item_type,
        current_status as raw_status

    from work_items

    union

    select
        work_items.source,
        work_items.work_item_id,
        work_items.container,
        work_items.item_type,
        transitions.from_status as raw_status

    from transitions

    inner join work_items
        on
            transitions.source = work_items.source
            and transitions.work_item_id = work_items.work_item_id

    union

    select
        work_items.source,
        work_items.work_item_id,
        work_items.container,
        work_items.item_type,
        transitions.to_status as raw_status

    from transitions

    inner join work_items
        on
            transitions.source = work_items.source
            and transitions.work_item_id = work_items.work_item_id

),

affected_items as (

    select distinct
        item_statuses.source,
        item_statuses.work_item_id

    from item_statuses

    inner join unmapped_statuses
        on
            item_statuses.source = unmapped_statuses.source
            and item_statuses.container is not distinct from unmapped_statuses.project
            and item_statuses.item_type is not distinct from unmapped_statuses.issue_type
            and item_statuses.raw_status = unmapped_statuses.raw_status

),

per_source as (

    select
        work_items.source,
        count(*) as work_items,
        count(affected_items.work_item_id) as items_with_unmapped_status

    from work_items

    left join affected_items
        on
            work_items.source = affected_items.source
            and work_items.work_item_id = affected_items.work_item_id

    group by work_items.source

),

final as (

    select
        source,
        items_with_unmapped_status,
        work_items,
        {{ round_to('cast(items_with_unmapped_status as ' ~ type_double() ~ ') / work_items', 4) }} as unmapped_share

    from per_source

    where items_with_unmapped_status > 0

)

select * from final
