-- grain: team × KPI × period (ISO week for delivery and adoption, survey wave, month for improvement)
with

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

delivery_values as (

    -- percentiles and rates rest on the items behind them; a count always stands
    select
        team_id,
        'cycle_time_p85_days' as kpi,
        week_start as period_start,
        cycle_time_p85_hours / 24.0 as value,
        throughput as sample_size,
        true as needs_min_sample,
        is_complete
    from delivery
    union all
    select
        team_id,
        'lead_time_p85_days' as kpi,
        week_start as period_start,
        lead_time_p85_hours / 24.0 as value,
        throughput as sample_size,
        true as needs_min_sample,
        is_complete
    from delivery
    union all
    select
        team_id,
        'on_time_rate' as kpi,
        week_start as period_start,
        on_time_rate as value,
        due_items as sample_size,
        true as needs_min_sample,
        is_complete
    from delivery
    union all
    select
        team_id,
        'throughput' as kpi,
        week_start as period_start,
        cast(throughput as {{ type_double() }}) as value,
        throughput as sample_size,
        false as needs_min_sample,
        is_complete
    from delivery

),

weekly as (

    select
        team_id,
        kpi,
        'week' as period_grain,
        period_start,
        {{ dbt.dateadd('day', 7, 'period_start') }} as period_end,
        cast(period_start as {{ dbt.type_string() }}) as period_label,
        value,
        sample_size,
        needs_min_sample,
        false as is_suppressed,
        is_complete
    from delivery_values
    union all
    select
        team_id,
        'adoption_rate:' || tool_id as kpi,
        'week' as period_grain,
        week_start as period_start,
        {{ dbt.dateadd('day', 7, 'week_start') }} as period_end,
        cast(week_start as {{ dbt.type_string() }}) as period_label,
        adoption_rate as value,
        headcount as sample_size,
        true as needs_min_sample,
        false as is_suppressed,
        is_complete
    from adoption
    where is_rolled_out

),

survey_values as (

    -- a suppressed team-wave is never judged: no value, no sample size
    select
        team_id,
        survey_wave,
        wave_date,
        is_suppressed,
        is_complete,
        'satisfaction_score' as kpi,
        satisfaction_score as value,
        scored_respondents as sample_size
    from satisfaction
    union all
    select
        team_id,
        survey_wave,
        wave_date,
        is_suppressed,
        is_complete,
        'enps' as kpi,
        enps as value,
        scored_respondents as sample_size
    from satisfaction
    union all
    select
        team_id,
        survey_wave,
        wave_date,
        is_suppressed,
        is_complete,
        'response_rate' as kpi,
        response_rate as value,
        respondents as sample_size
    from satisfaction

),

waves as (

    select
        team_id,
        kpi,
        'wave' as period_grain,
        wave_date as period_start,
        {{ dbt.dateadd('day', var('survey_wave_days'), 'wave_date') }} as period_end,
        survey_wave as period_label,
        case when not is_suppressed then value end as value,
        case when not is_suppressed then sample_size end as sample_size,
        -- the anonymity threshold already decides whether a wave has enough answers
        false as needs_min_sample,
        is_suppressed,
        is_complete
    from survey_values

),

monthly as (

    select
        team_id,
        'completion_rate' as kpi,
        'month' as period_grain,
        month_start as period_start,
        {{ dbt.dateadd('month', 1, 'month_start') }} as period_end,
        {{ year_month_label('month_start') }} as period_label,
        completion_rate as value,
        actions_opened as sample_size,
        true as needs_min_sample,
        false as is_suppressed,
        is_complete
    from improvement

),

unioned as (

    select * from weekly
    union all
    select * from waves
    union all
    select * from monthly

),

final as (

    select
        team_id,
        kpi,
        period_grain,
        period_start,
        cast(period_end as date) as period_end,
        period_label,
        cast(value as {{ type_double() }}) as value,
        cast(sample_size as integer) as sample_size,
        needs_min_sample,
        is_suppressed,
        -- the marts' own flag: false for the period under way on the as-of day, never judged
        is_complete,
        not is_suppressed
        and value is not null
        and {{ kpi_has_enough_items('needs_min_sample', 'sample_size') }} as is_judged

    from unioned

    where period_start <= {{ today() }}

)

select * from final
