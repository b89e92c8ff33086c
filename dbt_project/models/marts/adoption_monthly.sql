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

last_usage as (

    select max(usage_date) as last_usage_date

    from usage_daily

),

tool_months as (

    -- from the tool's rollout (or first use, if earlier) to the last month with usage data
    select
        tools.tool_id,
        tools.rollout_date,
        {{ date_series(
            month_start('least(tools.rollout_date, tools.first_used_on)'),
            month_start('last_usage.last_usage_date'),
            '1 month'
        ) }} as month_start

    from tools

    cross join last_usage

),

months as (

    select
        months_of_tools.month_start,
        {{ dbt.dateadd('month', 1, 'months_of_tools.month_start') }} as next_month_start,
        -- days of the month with data: all of them, up to the last day with usage data
        {{ days_from(
            'months_of_tools.month_start',
            'least(' ~ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'months_of_tools.month_start')) ~ ', last_usage.last_usage_date)'
        ) }} + 1 as observed_days

    from (select distinct month_start from tool_months) as months_of_tools

    cross join last_usage

),

headcounts as (

    -- everyone on the team's roster on at least one day of the month
    select
        people.team_id,
        months.month_start,
        count(distinct people.person_id) as headcount

    from months

    inner join people
        on
            months.next_month_start > people.valid_from
            and (people.valid_to is null or months.month_start < people.valid_to)

    group by people.team_id, months.month_start

),

monthly_use as (

    -- a person counts for the team they were on the day of use
    select
        team_id,
        tool_id,
        {{ month_start('usage_date') }} as month_start,
        count(distinct person_id) as monthly_active_users,
        count(*) as active_person_days

    from usage_daily

    group by team_id, tool_id, {{ month_start('usage_date') }}

),

final as (

    select
        headcounts.team_id,
        tool_months.tool_id,
        tool_months.month_start,
        months.observed_days,
        headcounts.headcount,
        coalesce(monthly_use.monthly_active_users, 0) as monthly_active_users,
        cast(coalesce(monthly_use.active_person_days, 0) as {{ type_double() }})
        / months.observed_days as avg_daily_active_users,
        -- (person-days / days) / MAU, in one division so that it never exceeds 1
        cast(monthly_use.active_person_days as {{ type_double() }})
        / (months.observed_days * nullif(monthly_use.monthly_active_users, 0)) as stickiness,
        cast(coalesce(monthly_use.monthly_active_users, 0) as {{ type_double() }})
        / headcounts.headcount as adoption_rate,
        coalesce(
            tool_months.month_start >= {{ month_start('tool_months.rollout_date') }},
            true
        ) as is_rolled_out,
        {{ period_is_complete('tool_months.month_start', 'month') }} as is_complete

    from tool_months

    inner join months
        on tool_months.month_start = months.month_start

    inner join headcounts
        on tool_months.month_start = headcounts.month_start

    left join monthly_use
        on
            headcounts.team_id = monthly_use.team_id
            and tool_months.tool_id = monthly_use.tool_id
            and tool_months.month_start = monthly_use.month_start

)

select * from final
