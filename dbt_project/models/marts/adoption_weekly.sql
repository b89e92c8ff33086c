with

tools as (

    select * from {{ ref('dim_tools') }}

),

usage_daily as (

    select * from {{ ref('fct_tool_usage_daily') }}

),

people as (

    select * from {{ ref('int_people__team_periods') }}

),

last_usage_week as (

    select max({{ week_start('usage_date') }}) as last_week

    from usage_daily

),

tool_weeks as (

    -- from the tool's rollout (or first use, if earlier) to the last week with usage data
    select
        tools.tool_id,
        tools.rollout_date,
        {{ date_series(
            week_start('least(tools.rollout_date, tools.first_used_on)'),
            'last_usage_week.last_week',
            '7 day'
        ) }} as week_start

    from tools

    cross join last_usage_week

),

weeks as (

    select distinct week_start

    from tool_weeks

),

headcounts as (

    -- everyone on the team's roster on at least one day of the week
    select
        people.team_id,
        weeks.week_start,
        count(distinct people.person_id) as headcount

    from weeks

    inner join people
        on
            people.valid_from < {{ dbt.dateadd('day', 7, 'weeks.week_start') }}
            and (people.valid_to is null or weeks.week_start < people.valid_to)

    group by people.team_id, weeks.week_start

),

active_users as (

    select
        team_id,
        tool_id,
        {{ week_start('usage_date') }} as week_start,
        count(distinct person_id) as active_users

    from usage_daily

    group by team_id, tool_id, week_start

),

final as (

    select
        headcounts.team_id,
        tool_weeks.tool_id,
        tool_weeks.week_start,
        coalesce(active_users.active_users, 0) as active_users,
        headcounts.headcount,
        cast(coalesce(active_users.active_users, 0) as {{ type_double() }})
        / headcounts.headcount as adoption_rate,
        coalesce(
            tool_weeks.week_start >= {{ week_start('tool_weeks.rollout_date') }},
            true
        ) as is_rolled_out,
        {{ period_is_complete('tool_weeks.week_start', 'week') }} as is_complete

    from tool_weeks

    inner join headcounts
        on tool_weeks.week_start = headcounts.week_start

    left join active_users
        on
            headcounts.team_id = active_users.team_id
            and tool_weeks.tool_id = active_users.tool_id
            and tool_weeks.week_start = active_users.week_start

)

select * from final
