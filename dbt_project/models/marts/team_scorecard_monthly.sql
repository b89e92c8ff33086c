with

work_items as (

    select * from {{ ref('fct_work_items') }}

),

delivery as (

    select * from {{ ref('delivery_weekly') }}

),

adoption as (

    select * from {{ ref('adoption_weekly') }}

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
        teams.team_id,
        months.month_start,
        {{ dbt.dateadd('month', 1, 'months.month_start') }} as next_month_start

    from teams

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
        cast(count(case when is_on_time then 1 end) as double)
        / nullif(count(case when is_on_time is not null then 1 end), 0) as on_time_rate

    from work_items

    where
        team_id is not null
        and resolved_at is not null

    group by 1, 2

),

adoption_monthly as (

    -- mean over the team's rolled-out tools × the ISO weeks starting in the month
    select
        team_id,
        {{ month_start('week_start') }} as month_start,
        avg(adoption_rate) as adoption_rate

    from adoption

    where is_rolled_out

    group by 1, 2

),

latest_waves as (

    -- the latest wave up to the month's end whose results are not suppressed
    select
        team_months.team_id,
        team_months.month_start,
        satisfaction.survey_wave,
        satisfaction.satisfaction_score,
        satisfaction.enps

    from team_months

    inner join satisfaction
        on
            team_months.team_id = satisfaction.team_id
            and team_months.next_month_start > satisfaction.wave_date

    where not satisfaction.is_suppressed

    qualify row_number() over (
            partition by team_months.team_id, team_months.month_start
            order by satisfaction.wave_date desc, satisfaction.survey_wave desc
        ) = 1

),

scorecard as (

    select
        team_months.team_id,
        team_months.month_start,
        coalesce(delivery_monthly.throughput, 0) as throughput,
        delivery_monthly.lead_time_p50_hours,
        delivery_monthly.cycle_time_p50_hours,
        delivery_monthly.on_time_rate,
        adoption_monthly.adoption_rate,
        latest_waves.survey_wave,
        latest_waves.satisfaction_score,
        latest_waves.enps,
        improvement.completion_rate

    from team_months

    left join delivery_monthly
        on
            team_months.team_id = delivery_monthly.team_id
            and team_months.month_start = delivery_monthly.month_start

    left join adoption_monthly
        on
            team_months.team_id = adoption_monthly.team_id
            and team_months.month_start = adoption_monthly.month_start

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

    select
        team_id,
        month_start,
        throughput,
        throughput - lag(throughput) over team_history as throughput_change,
        lead_time_p50_hours,
        lead_time_p50_hours - lag(lead_time_p50_hours) over team_history as lead_time_p50_hours_change,
        cycle_time_p50_hours,
        cycle_time_p50_hours - lag(cycle_time_p50_hours) over team_history as cycle_time_p50_hours_change,
        on_time_rate,
        on_time_rate - lag(on_time_rate) over team_history as on_time_rate_change,
        adoption_rate,
        adoption_rate - lag(adoption_rate) over team_history as adoption_rate_change,
        survey_wave,
        satisfaction_score,
        satisfaction_score - lag(satisfaction_score) over team_history as satisfaction_score_change,
        enps,
        enps - lag(enps) over team_history as enps_change,
        completion_rate,
        completion_rate - lag(completion_rate) over team_history as completion_rate_change

    from scorecard

    window team_history as (partition by team_id order by month_start)

)

select * from final
