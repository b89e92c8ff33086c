{%- set item_columns = ['resolved_at', 'is_canceled', 'lead_time_hours', 'cycle_time_hours', 'is_on_time'] %}
{%- set sprint_columns = ['completed_at', 'is_closed', 'committed_completed_items', 'committed_items'] %}
with

work_items as (

    select * from {{ ref('fct_work_items') }}

),

delivery as (

    select * from {{ ref('delivery_weekly') }}

),

sprints as (

    select * from {{ ref('sprint_predictability') }}

),

adoption as (

    select * from {{ ref('adoption_weekly') }}

),

adoption_by_month as (

    select * from {{ ref('adoption_monthly') }}

),

satisfaction as (

    select * from {{ ref('satisfaction_by_wave') }}

),

improvement as (

    select * from {{ ref('improvement_monthly') }}

),

teams as (

    select * from {{ ref('dim_teams') }}

),

team_items as (

    -- each item for its team and again for the organisation row
    {{ with_organisation_rows('work_items', item_columns) }}

),

team_sprints as (

    {{ with_organisation_rows('sprints', sprint_columns) }}

),

adoption_rows as (

    -- the organisation pools every team's people each tool-week
    select
        team_id,
        tool_id,
        week_start,
        is_rolled_out,
        adoption_rate

    from adoption

    union all

    select
        {{ organisation_team_id() }} as team_id,
        tool_id,
        week_start,
        is_rolled_out,
        cast(sum(active_users) as {{ type_double() }}) / nullif(sum(headcount), 0) as adoption_rate

    from adoption

    group by tool_id, week_start, is_rolled_out

),

stickiness_rows as (

    -- the organisation pools every team's person-days and monthly users each tool-month
    select
        team_id,
        tool_id,
        month_start,
        is_rolled_out,
        stickiness

    from adoption_by_month

    union all

    select
        {{ organisation_team_id() }} as team_id,
        tool_id,
        month_start,
        is_rolled_out,
        {{ exact_sum('avg_daily_active_users') }} / nullif(sum(monthly_active_users), 0) as stickiness

    from adoption_by_month

    group by tool_id, month_start, is_rolled_out

),

area_months as (

    select {{ month_start('week_start') }} as month_start from delivery
    union all
    select {{ month_start('week_start') }} as month_start from adoption
    union all
    select {{ month_start('wave_date') }} as month_start from satisfaction
    union all
    select month_start from improvement

),

bounds as (

    select
        min(month_start) as first_month,
        max(month_start) as last_month

    from area_months

),

months as (

    select {{ date_series('first_month', 'last_month', '1 month') }} as month_start

    from bounds

),

team_months as (

    select
        team_ids.team_id,
        months.month_start,
        {{ dbt.dateadd('month', 1, 'months.month_start') }} as next_month_start

    from ({{ team_ids_with_organisation('teams') }}) as team_ids

    cross join months

),

delivery_monthly as (

    -- straight from the items: ISO weeks straddle months
    select
        team_id,
        {{ month_start(utc_date('resolved_at')) }} as month_start,
        count(case when not is_canceled then 1 end) as throughput,
        {{ percentile('lead_time_hours', 0.5) }} as lead_time_p50_hours,
        {{ percentile('cycle_time_hours', 0.5) }} as cycle_time_p50_hours,
        cast(count(case when is_on_time then 1 end) as {{ type_double() }})
        / nullif(count(case when is_on_time is not null then 1 end), 0) as on_time_rate

    from team_items

    where resolved_at is not null

    group by team_id, {{ month_start(utc_date('resolved_at')) }}

),

sprints_monthly as (

    -- sprints closed in the month: all their committed items pooled
    select
        team_id,
        {{ month_start(utc_date('completed_at')) }} as month_start,
        count(*) as sprints_closed,
        cast(sum(committed_completed_items) as {{ type_double() }})
        / nullif(sum(committed_items), 0) as planning_accuracy

    from team_sprints

    where is_closed

    group by team_id, {{ month_start(utc_date('completed_at')) }}

),

adoption_rates as (

    -- mean over the team's rolled-out tools × the ISO weeks starting in the month
    select
        team_id,
        {{ month_start('week_start') }} as month_start,
        {{ exact_avg('adoption_rate') }} as adoption_rate

    from adoption_rows

    where is_rolled_out

    group by team_id, {{ month_start('week_start') }}

),

stickiness_monthly as (

    -- mean over the team's rolled-out tools that someone on the team used in the month
    select
        team_id,
        month_start,
        {{ exact_avg('stickiness') }} as stickiness

    from stickiness_rows

    where
        is_rolled_out
        and stickiness is not null

    group by team_id, month_start

),

latest_waves_ranked as (

    -- the latest wave up to the month's end whose results are not suppressed
    select
        team_months.team_id,
        team_months.month_start,
        satisfaction.survey_wave,
        satisfaction.response_rate,
        satisfaction.satisfaction_score,
        satisfaction.enps,
        row_number() over (
            partition by team_months.team_id, team_months.month_start
            order by satisfaction.wave_date desc, satisfaction.survey_wave desc, satisfaction.survey_id asc
        ) as row_rank

    from team_months

    inner join satisfaction
        on
            team_months.team_id = satisfaction.team_id
            and team_months.next_month_start > satisfaction.wave_date

    where not satisfaction.is_suppressed

),

latest_waves as (

    select
        team_id,
        month_start,
        survey_wave,
        response_rate,
        satisfaction_score,
        enps

    from latest_waves_ranked

    where row_rank = 1

),

scorecard as (

    select
        team_months.team_id,
        team_months.month_start,
        coalesce(delivery_monthly.throughput, 0) as throughput,
        delivery_monthly.lead_time_p50_hours,
        delivery_monthly.cycle_time_p50_hours,
        delivery_monthly.on_time_rate,
        coalesce(sprints_monthly.sprints_closed, 0) as sprints_closed,
        sprints_monthly.planning_accuracy,
        adoption_rates.adoption_rate,
        stickiness_monthly.stickiness,
        latest_waves.survey_wave,
        latest_waves.response_rate,
        latest_waves.satisfaction_score,
        latest_waves.enps,
        improvement.completion_rate,
        coalesce(improvement.open_actions_end, 0) as open_actions_end,
        improvement.open_action_age_p50_days

    from team_months

    left join delivery_monthly
        on
            team_months.team_id = delivery_monthly.team_id
            and team_months.month_start = delivery_monthly.month_start

    left join sprints_monthly
        on
            team_months.team_id = sprints_monthly.team_id
            and team_months.month_start = sprints_monthly.month_start

    left join adoption_rates
        on
            team_months.team_id = adoption_rates.team_id
            and team_months.month_start = adoption_rates.month_start

    left join stickiness_monthly
        on
            team_months.team_id = stickiness_monthly.team_id
            and team_months.month_start = stickiness_monthly.month_start

    left join latest_waves
        on
            team_months.team_id = latest_waves.team_id
            and team_months.month_start = latest_waves.month_start

    left join improvement
        on
            team_months.team_id = improvement.team_id
            and team_months.month_start = improvement.month_start

),

final as (

    -- *_change: this month minus the previous month (null when either is null)
    select
        team_id,
        month_start,
        throughput,
        throughput - lag(throughput) over (partition by team_id order by month_start) as throughput_change,
        lead_time_p50_hours,
        lead_time_p50_hours
        - lag(lead_time_p50_hours) over (partition by team_id order by month_start) as lead_time_p50_hours_change,
        cycle_time_p50_hours,
        cycle_time_p50_hours
        - lag(cycle_time_p50_hours) over (partition by team_id order by month_start) as cycle_time_p50_hours_change,
        on_time_rate,
        on_time_rate - lag(on_time_rate) over (partition by team_id order by month_start) as on_time_rate_change,
        sprints_closed,
        planning_accuracy,
        planning_accuracy
        - lag(planning_accuracy) over (partition by team_id order by month_start) as planning_accuracy_change,
        adoption_rate,
        adoption_rate - lag(adoption_rate) over (partition by team_id order by month_start) as adoption_rate_change,
        stickiness,
        stickiness - lag(stickiness) over (partition by team_id order by month_start) as stickiness_change,
        survey_wave,
        response_rate,
        response_rate - lag(response_rate) over (partition by team_id order by month_start) as response_rate_change,
        satisfaction_score,
        satisfaction_score
        - lag(satisfaction_score) over (partition by team_id order by month_start) as satisfaction_score_change,
        enps,
        enps - lag(enps) over (partition by team_id order by month_start) as enps_change,
        completion_rate,
        completion_rate
        - lag(completion_rate) over (partition by team_id order by month_start) as completion_rate_change,
        open_actions_end,
        open_actions_end
        - lag(open_actions_end) over (partition by team_id order by month_start) as open_actions_end_change,
        open_action_age_p50_days,
        open_action_age_p50_days
        - lag(open_action_age_p50_days) over (partition by team_id order by month_start)
            as open_action_age_p50_days_change,
        {{ period_is_complete('month_start', 'month') }} as is_complete

    from scorecard

)

select * from final
