{{ config(meta={'dagster': {'ref': {'name': 'fct_work_items'}}}) }}
-- No duration in the marts runs backwards: an instant before the one it
-- follows (clock skew, a mis-parsed offset, a history read out of order)
-- would make lead, cycle or close times negative and drag every percentile.
-- One row per mart and rule that has failing rows.
with

work_items as (

    select * from {{ ref('fct_work_items') }}

),

improvement_actions as (

    select * from {{ ref('fct_improvement_actions') }}

),

delivery_weekly as (

    select * from {{ ref('delivery_weekly') }}

),

improvement_monthly as (

    select * from {{ ref('improvement_monthly') }}

),

violations as (

    select
        'fct_work_items' as mart,
        'resolved_at before created_at' as rule,
        count(*) as failing_rows

    from work_items

    where resolved_at < created_at

    union all

    select
        'fct_work_items' as mart,
        'started_at after resolved_at' as rule,
        count(*) as failing_rows

    from work_items

    where started_at > resolved_at

    union all

    select
        'fct_work_items' as mart,
        'negative lead, cycle or active time' as rule,
        count(*) as failing_rows

    from work_items

    where lead_time_hours < 0 or cycle_time_hours < 0 or active_time_hours < 0

    union all

    select
        'fct_improvement_actions' as mart,
        'closed_at before opened_at' as rule,
        count(*) as failing_rows

    from improvement_actions

    where closed_at < opened_at or days_to_close < 0

    union all

    select
        'delivery_weekly' as mart,
        'negative lead or cycle time percentile' as rule,
        count(*) as failing_rows

    from delivery_weekly

    where
        lead_time_p50_hours < 0
        or lead_time_p85_hours < 0
        or cycle_time_p50_hours < 0
        or cycle_time_p85_hours < 0

    union all

    select
        'improvement_monthly' as mart,
        'negative median days to close' as rule,
        count(*) as failing_rows

    from improvement_monthly

    where median_days_to_close < 0

),

final as (

    select * from violations

    where failing_rows > 0

)

select * from final
