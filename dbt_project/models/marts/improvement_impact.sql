{%- set weeks = var('improvement_impact_weeks') | int -%}
with

actions as (

    select * from {{ ref('fct_improvement_actions') }}

),

labels as (

    select * from {{ ref('int_work_item_labels') }}

),

improvement_labels as (

    select * from {{ ref('improvement_labels') }}

),

kpi_values as (

    select * from {{ ref('int_kpi_values') }}

),

closed_actions as (

    select *

    from actions

    where
        closed_at is not null
        and not is_canceled

),

named_kpis as (

    -- the convention: a label `kpi:<kpi name>` on the action itself
    select
        labels.source,
        labels.work_item_id,
        substr(labels.label, 5) as kpi

    from labels

    where {{ text_starts_with('labels.label', "'kpi:'") }}

    union

    -- or a label that the improvement-labels seed maps to a KPI (column `kpi`)
    select
        labels.source,
        labels.work_item_id,
        lower(trim(improvement_labels.kpi)) as kpi

    from labels

    inner join improvement_labels
        on
            labels.label = lower(trim(improvement_labels.label))
            and improvement_labels.source in (labels.source, '*')

    where nullif(trim(improvement_labels.kpi), '') is not null

),

windows as (

    -- {{ weeks }} whole weeks before the week the action was opened, and after the week it was closed
    select
        closed_actions.source,
        closed_actions.work_item_id,
        closed_actions.work_item_key,
        closed_actions.team_id,
        named_kpis.kpi,
        closed_actions.opened_at,
        closed_actions.closed_at,
        cast({{ dbt.dateadd('day', -7 * weeks, week_start(utc_date('closed_actions.opened_at'))) }} as date)
            as before_start,
        {{ week_start(utc_date('closed_actions.opened_at')) }} as before_end,
        cast({{ dbt.dateadd('day', 7, week_start(utc_date('closed_actions.closed_at'))) }} as date) as after_start,
        cast({{ dbt.dateadd('day', 7 * (weeks + 1), week_start(utc_date('closed_actions.closed_at'))) }} as date)
            as after_end

    from closed_actions

    inner join named_kpis
        on
            closed_actions.source = named_kpis.source
            and closed_actions.work_item_id = named_kpis.work_item_id

),

usable_values as (

    select *

    from kpi_values

    where
        is_complete
        and not is_suppressed
        and value is not null

),

before_values as (

    select
        windows.source,
        windows.work_item_id,
        windows.kpi,
        {{ exact_avg('usable_values.value') }} as value_before,
        sum(usable_values.sample_size) as n_before,
        count(*) as periods_before,
        bool_or(usable_values.needs_min_sample) as needs_min_sample

    from windows

    inner join usable_values
        on
            windows.team_id = usable_values.team_id
            and windows.kpi = usable_values.kpi
            and windows.before_start <= usable_values.period_start
            and windows.before_end >= usable_values.period_end

    group by windows.source, windows.work_item_id, windows.kpi

),

after_values as (

    select
        windows.source,
        windows.work_item_id,
        windows.kpi,
        {{ exact_avg('usable_values.value') }} as value_after,
        sum(usable_values.sample_size) as n_after,
        count(*) as periods_after,
        bool_or(usable_values.needs_min_sample) as needs_min_sample

    from windows

    inner join usable_values
        on
            windows.team_id = usable_values.team_id
            and windows.kpi = usable_values.kpi
            and windows.after_start <= usable_values.period_start
            and windows.after_end >= usable_values.period_end

    group by windows.source, windows.work_item_id, windows.kpi

),

compared as (

    -- a value resting on too few items across its window is left null, with its count
    select
        windows.source,
        windows.work_item_id,
        windows.work_item_key,
        windows.team_id,
        windows.kpi,
        windows.opened_at,
        windows.closed_at,
        windows.before_start,
        windows.before_end,
        windows.after_start,
        windows.after_end,
        case
            when {{ kpi_has_enough_items('coalesce(before_values.needs_min_sample, false)', 'before_values.n_before') }}
                then before_values.value_before
        end as value_before,
        case
            when {{ kpi_has_enough_items('coalesce(after_values.needs_min_sample, false)', 'after_values.n_after') }}
                then after_values.value_after
        end as value_after,
        cast(coalesce(before_values.n_before, 0) as bigint) as n_before,
        cast(coalesce(after_values.n_after, 0) as bigint) as n_after,
        coalesce(before_values.periods_before, 0) as periods_before,
        coalesce(after_values.periods_after, 0) as periods_after,
        windows.after_end <= {{ today() }} as is_after_window_complete

    from windows

    left join before_values
        on
            windows.source = before_values.source
            and windows.work_item_id = before_values.work_item_id
            and windows.kpi = before_values.kpi

    left join after_values
        on
            windows.source = after_values.source
            and windows.work_item_id = after_values.work_item_id
            and windows.kpi = after_values.kpi

),

final as (

    select
        *,
        value_after - value_before as difference

    from compared

)

select * from final
