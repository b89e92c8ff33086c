{{ config(meta={'dagster': {'ref': {'name': 'stg_okta__system_log'}}}) }}
-- Every Okta row landed in raw reaches staging (System Log events): a staging
-- model that drops rows (a join, a filter, a bad cast) fails here instead of
-- shrinking the marts without a word.
with

raw_system_log as (

    select * from {{ source('okta', 'system_log') }}

),

staged_system_log as (

    select * from {{ ref('stg_okta__system_log') }}

),

row_counts as (

    select
        'raw.okta_system_log' as raw_table,
        'stg_okta__system_log' as staging_model,
        (
            select count(*)

            from raw_system_log
        ) as raw_rows,
        (
            select count(*)

            from staged_system_log
        ) as staged_rows

),

final as (

    select * from row_counts

    where raw_rows <> staged_rows

)

select * from final
