with

adoption as (

    select * from {{ ref('adoption_weekly') }}

),

tools as (

    select * from {{ ref('dim_tools') }}

),

rolled_out_weeks as (

    select
        adoption.team_id,
        adoption.tool_id,
        adoption.week_start,
        adoption.active_users,
        adoption.headcount,
        adoption.adoption_rate,
        tools.rollout_date

    from adoption

    inner join tools
        on adoption.tool_id = tools.tool_id

    where adoption.is_rolled_out

),

milestones as (

    select
        team_id,
        tool_id,
        min(rollout_date) as rollout_date,
        min({{ week_start('rollout_date') }}) as rollout_week_start,
        count(*) as weeks_observed,
        min(case when adoption_rate >= {{ var('adoption_threshold') }} then week_start end) as adoption_week_start,
        max(adoption_rate) as peak_adoption_rate,
        max(week_start) as latest_week_start

    from rolled_out_weeks

    group by team_id, tool_id

),

timed as (

    select
        *,
        -- reached in the rollout week itself: day 0, week 0
        case
            when adoption_week_start is not null
                then greatest({{ days_from('rollout_date', 'adoption_week_start') }}, 0)
        end as days_to_adoption,
        -- both are Mondays: a whole number of weeks
        cast(
            {{ days_from('rollout_week_start', 'adoption_week_start') }} / 7 as {{ dbt.type_int() }}
        ) as weeks_to_adoption

    from milestones

),

final as (

    select
        timed.team_id,
        timed.tool_id,
        timed.rollout_date,
        timed.weeks_observed,
        timed.adoption_week_start is not null as has_reached_adoption,
        timed.adoption_week_start,
        timed.days_to_adoption,
        timed.weeks_to_adoption,
        timed.peak_adoption_rate,
        timed.latest_week_start,
        latest.active_users as latest_active_users,
        latest.headcount as latest_headcount,
        latest.adoption_rate as latest_adoption_rate

    from timed

    inner join rolled_out_weeks as latest
        on
            timed.team_id = latest.team_id
            and timed.tool_id = latest.tool_id
            and timed.latest_week_start = latest.week_start

)

select * from final
