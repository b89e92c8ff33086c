{{ config(meta={'dagster': {'ref': {'name': 'stg_usage__events'}}}) }}
-- Every usage-log row landed in raw reaches staging (events): a staging model
-- that drops rows (a join, a filter, a bad cast) fails here instead of
-- shrinking the marts without a word.
with

raw_events as (

    select * from {{ source('usage', 'events') }}

),

staged_events as (

    select * from {{ ref('stg_usage__events') }}

),

row_counts as (

    select
        'raw.usage_events' as raw_table,
        'stg_usage__events' as staging_model,
        (
            select count(*)

            from raw_events
        ) as raw_rows,
        (
            select count(*)

            from staged_events
        ) as staged_rows

),

final as (

    select * from row_counts

    where raw_rows <> staged_rows

)

select * from final
