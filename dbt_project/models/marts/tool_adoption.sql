with

tools as (

    select * from {{ ref('dim_tools') }}

),

adoption as (

    select * from {{ ref('adoption_weekly') }}

),

usage_daily as (

    select * from {{ ref('fct_tool_usage_daily') }}

),

people as (

    select * from {{ ref('int_people__team_periods') }}

),

team_milestones as (

    select * from {{ ref('tool_adoption_by_team') }}

),

tool_weeks as (

    -- the weeks adoption_weekly covers for the tool (rollout, or first use, to the last week with data)
    select distinct
        tool_id,
        week_start,
        is_rolled_out

    from adoption

),

org_headcounts as (

    -- everyone on any team's roster on at least one day of the week
    select
        weeks.week_start,
        count(distinct people.person_id) as headcount

    from (select distinct week_start from tool_weeks) as weeks

    inner join people
        on
            people.valid_from < {{ dbt.dateadd('day', 7, 'weeks.week_start') }}
            and (people.valid_to is null or weeks.week_start < people.valid_to)

    group by weeks.week_start

),

org_active as (

    select
        tool_id,
        {{ week_start('usage_date') }} as week_start,
        count(distinct person_id) as active_users

    from usage_daily

    group by tool_id, {{ week_start('usage_date') }}

),

org_weeks as (

    select
        tool_weeks.tool_id,
        tool_weeks.week_start,
        tool_weeks.is_rolled_out,
        coalesce(org_active.active_users, 0) as active_users,
        org_headcounts.headcount,
        cast(coalesce(org_active.active_users, 0) as {{ type_double() }})
        / org_headcounts.headcount as adoption_rate

    from tool_weeks

    inner join org_headcounts
        on tool_weeks.week_start = org_headcounts.week_start

    left join org_active
        on
            tool_weeks.tool_id = org_active.tool_id
            and tool_weeks.week_start = org_active.week_start

),

milestones as (

    select
        org_weeks.tool_id,
        min(tools.rollout_date) as rollout_date,
        min({{ week_start('tools.rollout_date') }}) as rollout_week_start,
        count(*) as weeks_observed,
        min(
            case when org_weeks.adoption_rate >= {{ var('adoption_threshold') }} then org_weeks.week_start end
        ) as adoption_week_start,
        max(org_weeks.adoption_rate) as peak_adoption_rate,
        max(org_weeks.week_start) as latest_week_start

    from org_weeks

    inner join tools
        on org_weeks.tool_id = tools.tool_id

    where org_weeks.is_rolled_out

    group by org_weeks.tool_id

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

team_counts as (

    select
        tool_id,
        count(*) as teams_observed,
        count(case when has_reached_adoption then 1 end) as teams_adopted

    from team_milestones

    group by tool_id

),

final as (

    select
        tools.tool_id,
        tools.tool_name,
        tools.rollout_date,
        tools.first_used_on,
        coalesce(milestones.weeks_observed, 0) as weeks_observed,
        milestones.adoption_week_start is not null as has_reached_adoption,
        milestones.adoption_week_start,
        milestones.days_to_adoption,
        milestones.weeks_to_adoption,
        milestones.peak_adoption_rate,
        milestones.latest_week_start,
        latest.active_users as latest_active_users,
        latest.headcount as latest_headcount,
        latest.adoption_rate as latest_adoption_rate,
        coalesce(team_counts.teams_observed, 0) as teams_observed,
        coalesce(team_counts.teams_adopted, 0) as teams_adopted

    from tools

    left join timed as milestones
        on tools.tool_id = milestones.tool_id

    left join org_weeks as latest
        on
            milestones.tool_id = latest.tool_id
            and milestones.latest_week_start = latest.week_start

    left join team_counts
        on tools.tool_id = team_counts.tool_id

)

select * from final
