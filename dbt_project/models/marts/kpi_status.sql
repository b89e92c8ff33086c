with

kpi_values as (

    select * from {{ ref('int_kpi_values') }}

),

targets as (

    select * from {{ ref('kpi_targets') }}

),

ranked_targets as (

    -- a team's own target wins over the organisation-wide one (scope '*')
    select
        kpi_values.*,
        targets.scope as target_scope,
        targets.direction,
        targets.target,
        targets.at_risk_band,
        row_number() over (
            partition by kpi_values.team_id, kpi_values.kpi, kpi_values.period_grain, kpi_values.period_start
            order by case when targets.scope = '*' then 1 else 0 end
        ) as row_rank

    from kpi_values

    inner join targets
        on
            kpi_values.kpi = targets.kpi
            and targets.scope in (kpi_values.team_id, '*')

),

matched as (

    select
        {{ kpi_value_columns() | join(', ') }},
        target_scope,
        direction,
        target,
        at_risk_band

    from ranked_targets

    where row_rank = 1

),

judged as (

    -- at_risk_band is the far edge of the at-risk zone, in the KPI's unit
    select
        *,
        case
            when not is_judged then 'no_data'
            when direction = 'higher_is_better' and value >= target then 'on_target'
            when direction = 'higher_is_better' and value >= at_risk_band then 'at_risk'
            when direction = 'lower_is_better' and value <= target then 'on_target'
            when direction = 'lower_is_better' and value <= at_risk_band then 'at_risk'
            else 'off_target'
        end as status,
        lag(case when is_judged then value end) over (
            partition by team_id, kpi, period_grain order by period_start
        ) as previous_value

    from matched

),

final as (

    select
        team_id,
        kpi,
        period_start,
        period_grain,
        period_end,
        period_label,
        is_complete,
        value,
        target,
        at_risk_band,
        direction,
        target_scope,
        status,
        sample_size,
        is_suppressed,
        previous_value,
        case
            when status = 'no_data' or previous_value is null then null
            when value = previous_value then 'same'
            when (value > previous_value) = (direction = 'higher_is_better') then 'better'
            else 'worse'
        end as trend

    from judged

)

select * from final
