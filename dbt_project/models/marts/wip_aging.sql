with

work_items as (

    select * from {{ ref('fct_work_items') }}

),

finished as (

    -- the team's history: every finished, not canceled item that ever started
    select
        team_id,
        cycle_time_hours / 24.0 as cycle_time_days

    from work_items

    where
        team_id is not null
        and cycle_time_hours is not null

),

team_cycle_times as (

    select
        team_id,
        count(*) as cycle_time_sample_size,
        {{ percentile('cycle_time_days', 0.5) }} as cycle_time_p50_days,
        {{ percentile('cycle_time_days', 0.85) }} as cycle_time_p85_days,
        {{ percentile('cycle_time_days', 0.95) }} as cycle_time_p95_days

    from finished

    group by team_id

),

open_items as (

    -- ageing starts when the item started; an item not started yet ages from its creation
    select
        source,
        work_item_id,
        work_item_key,
        team_id,
        item_type,
        status_category,
        created_at,
        started_at,
        {{ age_days('coalesce(started_at, created_at)') }} as age_days

    from work_items

    where
        team_id is not null
        and status_category <> 'done'

),

final as (

    select
        open_items.source,
        open_items.work_item_id,
        open_items.work_item_key,
        open_items.team_id,
        open_items.item_type,
        open_items.status_category,
        open_items.created_at,
        open_items.started_at,
        open_items.age_days,
        team_cycle_times.cycle_time_p50_days,
        team_cycle_times.cycle_time_p85_days,
        team_cycle_times.cycle_time_p95_days,
        coalesce(team_cycle_times.cycle_time_sample_size, 0) as cycle_time_sample_size,
        -- only started items are in flow and comparable with cycle times
        case
            when open_items.started_at is not null
                then open_items.age_days > team_cycle_times.cycle_time_p85_days
        end as is_over_p85

    from open_items

    left join team_cycle_times
        on open_items.team_id = team_cycle_times.team_id

)

select * from final
