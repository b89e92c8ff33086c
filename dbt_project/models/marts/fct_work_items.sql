with

work_items as (

    select * from {{ ref('int_work_items') }}

),

timings as (

    select * from {{ ref('int_work_item_timings') }}

),

item_teams as (

    select * from {{ ref('int_work_item_teams') }}

),

item_labels as (

    select * from {{ ref('int_work_item_labels') }}

),

improvement_labels as (

    select * from {{ ref('improvement_labels') }}

),

teams as (

    select * from {{ ref('teams') }}

),

improvement_items as (

    select distinct
        item_labels.source,
        item_labels.work_item_id

    from item_labels

    inner join improvement_labels
        on
            item_labels.label = lower(trim(improvement_labels.label))
            and (
                trim(improvement_labels.source) = '*'
                or item_labels.source = lower(trim(improvement_labels.source))
            )

),

final as (

    select
        work_items.source,
        work_items.work_item_id,
        work_items.work_item_key,
        work_items.container,
        item_teams.team_id,
        item_teams.team_attribution,
        work_items.item_type,
        work_items.title,
        case
            when work_items.assignee_email is not null
                then {{ pseudonymize('work_items.assignee_email') }}
        end as assignee_person_id,
        work_items.created_at,
        timings.started_at,
        timings.resolved_at,
        work_items.due_date,
        work_items.current_status,
        work_items.current_status_name,
        timings.current_category as status_category,
        work_items.resolution,
        timings.is_canceled,
        cast(timings.reopen_count as integer) as reopen_count,
        timings.lead_time_hours,
        timings.cycle_time_hours,
        timings.active_time_hours,
        timings.flow_efficiency,
        -- judged on the resolution date in the team's time zone (UTC without a team)
        case
            when
                work_items.due_date is not null
                and timings.resolved_at is not null
                and not timings.is_canceled
                then
                    {{ local_date('timings.resolved_at', "coalesce(teams.time_zone, 'UTC')") }}
                    <= work_items.due_date
        end as is_on_time,
        improvement_items.work_item_id is not null as is_improvement_action

    from work_items

    inner join timings
        on
            work_items.source = timings.source
            and work_items.work_item_id = timings.work_item_id

    inner join item_teams
        on
            work_items.source = item_teams.source
            and work_items.work_item_id = item_teams.work_item_id

    left join teams
        on item_teams.team_id = teams.team_id

    left join improvement_items
        on
            work_items.source = improvement_items.source
            and work_items.work_item_id = improvement_items.work_item_id

)

select * from final
