{{ config(meta={'dagster': {'ref': {'name': 'stg_linear__issues'}}}) }}
-- Every Linear row landed in raw reaches staging (issues but deleted ones): a
-- staging model that drops rows (a join, a filter, a bad cast) fails here
-- instead of shrinking the marts without a word.
with

raw_issues as (

    select * from {{ source('linear', 'issues') }}

),

staged_issues as (

    select * from {{ ref('stg_linear__issues') }}

),

row_counts as (

    select
        'raw.linear_issues' as raw_table,
        'stg_linear__issues' as staging_model,
        (
            select count(*)

            from raw_issues

            where not is_deleted
        ) as raw_rows,
        (
            select count(*)

            from staged_issues
        ) as staged_rows

),

final as (

    select * from row_counts

    where raw_rows <> staged_rows

)

select * from final
