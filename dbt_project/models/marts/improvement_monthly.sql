with

actions as (

    select * from {{ ref('fct_improvement_actions') }}

),

teams as (

    select * from {{ ref('dim_teams') }}

),

team_actions as (

    -- each action for its team and again for the organisation roll-up
    {{ with_organisation_rows('actions', ['opened_at', 'closed_at', 'is_canceled', 'days_to_close']) }}

),

action_dates as (

    select opened_at as happened_at from actions
    union all
    select closed_at as happened_at from actions

),

open_now as (

    select count(*) as open_actions

    from actions

    where closed_at is null

),

bounds as (

    -- while an action is still open, its age grows: run up to the current month
    select
        min({{ month_start(utc_date('action_dates.happened_at')) }}) as first_month,
        greatest(
            max({{ month_start(utc_date('action_dates.happened_at')) }}),
            coalesce(
                case when max(open_now.open_actions) > 0 then {{ month_start(today()) }} end,
                max({{ month_start(utc_date('action_dates.happened_at')) }})
            )
        ) as last_month

    from action_dates

    cross join open_now

),

months as (

    select {{ date_series('first_month', 'last_month', '1 month') }} as month_start

    from bounds

),

team_months as (

    select
        team_ids.team_id,
        months.month_start,
        {{ utc_midnight(dbt.dateadd('month', 1, 'months.month_start')) }} as month_end_at,
        -- ages are taken at the month's end, or at the as-of instant for the month under way
        least(
            {{ utc_midnight(dbt.dateadd('month', 1, 'months.month_start')) }},
            {{ as_of_timestamp() }}
        ) as age_measured_at

    from ({{ team_ids_with_organisation('teams') }}) as team_ids

    cross join months

),

opened as (

    select
        team_id,
        {{ month_start(utc_date('opened_at')) }} as month_start,
        count(*) as actions_opened

    from team_actions

    group by 1, 2

),

closed as (

    select
        team_id,
        {{ month_start(utc_date('closed_at')) }} as month_start,
        count(case when not is_canceled then 1 end) as actions_closed,
        count(case when is_canceled then 1 end) as actions_canceled,
        {{ percentile('days_to_close', 0.5) }} as median_days_to_close

    from team_actions

    where closed_at is not null

    group by 1, 2

),

still_open as (

    select
        team_months.team_id,
        team_months.month_start,
        count(*) as open_actions_end,
        {{ percentile(days_between('team_actions.opened_at', 'team_months.age_measured_at'), 0.5) }}
            as open_action_age_p50_days,
        max({{ days_between('team_actions.opened_at', 'team_months.age_measured_at') }})
            as open_action_age_max_days

    from team_months

    inner join team_actions
        on team_months.team_id = team_actions.team_id

    where
        team_actions.opened_at < team_months.age_measured_at
        and (team_actions.closed_at is null or team_actions.closed_at >= team_months.age_measured_at)

    group by 1, 2

),

final as (

    select
        team_months.team_id,
        team_months.month_start,
        coalesce(opened.actions_opened, 0) as actions_opened,
        coalesce(closed.actions_closed, 0) as actions_closed,
        coalesce(closed.actions_canceled, 0) as actions_canceled,
        coalesce(still_open.open_actions_end, 0) as open_actions_end,
        still_open.open_action_age_p50_days,
        still_open.open_action_age_max_days,
        cast(coalesce(closed.actions_closed, 0) as {{ type_double() }})
        / nullif(opened.actions_opened, 0) as completion_rate,
        closed.median_days_to_close,
        {{ period_is_complete('team_months.month_start', 'month') }} as is_complete

    from team_months

    left join opened
        on
            team_months.team_id = opened.team_id
            and team_months.month_start = opened.month_start

    left join closed
        on
            team_months.team_id = closed.team_id
            and team_months.month_start = closed.month_start

    left join still_open
        on
            team_months.team_id = still_open.team_id
            and team_months.month_start = still_open.month_start

)

select * from final
