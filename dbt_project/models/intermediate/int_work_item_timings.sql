/*
    grain: one work item, with the delivery timings the metric definitions ask for

      started_at   first transition into in_progress (creation, when the item
                   was created in an in_progress status); null if never started
      resolved_at  the last transition into done (after any reopen), only while
                   the item is done now; the tracker's own resolution time when
                   the history has no transition into done
      lead / cycle created / started → resolved, in exact hours; null unless
                   done now and not canceled
      active time  hours spent in in_progress; flow efficiency = active / cycle
      reopens      transitions from done back to another category
*/
with

work_items as (

    select * from {{ ref('int_work_items') }}

),

status_changes as (

    select * from {{ ref('int_status_changes') }}

),

status_periods as (

    select * from {{ ref('int_work_item_status_periods') }}

),

status_categories as (

    select * from {{ ref('int_status_categories') }}

),

current_statuses as (

    select
        work_items.source,
        work_items.work_item_id,
        work_items.created_at,
        work_items.source_resolved_at,
        work_items.has_canceled_resolution,
        status_categories.status_category as current_category

    from work_items

    left join status_categories
        on
            work_items.source = status_categories.source
            and work_items.container = status_categories.project
            and work_items.item_type = status_categories.issue_type
            and work_items.current_status = status_categories.raw_status

),

change_summary as (

    select
        source,
        work_item_id,
        min(
            case
                when to_category = 'in_progress' and from_category <> 'in_progress'
                    then changed_at
            end
        ) as first_in_progress_at,
        max(
            case
                when to_category = 'done' and from_category <> 'done'
                    then changed_at
            end
        ) as last_done_at,
        count(case when is_reopen then 1 end) as reopen_count

    from status_changes

    group by source, work_item_id

),

initial_statuses as (

    select
        source,
        work_item_id,
        status_category as initial_category

    from status_periods

    where sequence_number = 0

),

resolved as (

    select
        current_statuses.source,
        current_statuses.work_item_id,
        current_statuses.created_at,
        current_statuses.current_category,
        coalesce(
            current_statuses.current_category = 'done'
            and current_statuses.has_canceled_resolution,
            false
        ) as is_canceled,
        case
            when current_statuses.current_category = 'done'
                then coalesce(change_summary.last_done_at, current_statuses.source_resolved_at)
        end as resolved_at,
        case
            when initial_statuses.initial_category = 'in_progress'
                then current_statuses.created_at
            else change_summary.first_in_progress_at
        end as started_at,
        coalesce(change_summary.reopen_count, 0) as reopen_count

    from current_statuses

    left join change_summary
        on
            current_statuses.source = change_summary.source
            and current_statuses.work_item_id = change_summary.work_item_id

    left join initial_statuses
        on
            current_statuses.source = initial_statuses.source
            and current_statuses.work_item_id = initial_statuses.work_item_id

),

active_time as (

    select
        resolved.source,
        resolved.work_item_id,
        {{ exact_sum(hours_between(
            'status_periods.period_start',
            'least(coalesce(status_periods.period_end, resolved.resolved_at), resolved.resolved_at)'
        )) }} as active_time_hours

    from resolved

    inner join status_periods
        on
            resolved.source = status_periods.source
            and resolved.work_item_id = status_periods.work_item_id

    where
        status_periods.status_category = 'in_progress'
        and resolved.resolved_at is not null
        and status_periods.period_start < resolved.resolved_at

    group by resolved.source, resolved.work_item_id

),

timings as (

    select
        resolved.source,
        resolved.work_item_id,
        resolved.current_category,
        resolved.is_canceled,
        resolved.started_at,
        resolved.resolved_at,
        resolved.reopen_count,
        case
            when resolved.resolved_at is not null and not resolved.is_canceled
                then {{ hours_between('resolved.created_at', 'resolved.resolved_at') }}
        end as lead_time_hours,
        case
            when resolved.resolved_at is not null and not resolved.is_canceled
                then {{ hours_between('resolved.started_at', 'resolved.resolved_at') }}
        end as cycle_time_hours,
        case
            when resolved.resolved_at is not null and not resolved.is_canceled
                then coalesce(active_time.active_time_hours, 0)
        end as active_time_hours

    from resolved

    left join active_time
        on
            resolved.source = active_time.source
            and resolved.work_item_id = active_time.work_item_id

),

final as (

    select
        *,
        case
            when cycle_time_hours > 0 then active_time_hours / cycle_time_hours
        end as flow_efficiency

    from timings

)

select * from final
