{{ config(meta={'dagster': {'ref': {'name': 'stg_surveys__responses'}}}) }}
-- Every survey row landed in raw reaches staging (responses and answers): a
-- staging model that drops rows (a join, a filter, a bad cast) fails here
-- instead of shrinking the marts without a word.
with

raw_responses as (

    select * from {{ source('surveys', 'responses') }}

),

staged_responses as (

    select * from {{ ref('stg_surveys__responses') }}

),

raw_answers as (

    select * from {{ source('surveys', 'answers') }}

),

staged_answers as (

    select * from {{ ref('stg_surveys__answers') }}

),

row_counts as (

    select
        'raw.survey_responses' as raw_table,
        'stg_surveys__responses' as staging_model,
        (
            select count(*)

            from raw_responses
        ) as raw_rows,
        (
            select count(*)

            from staged_responses
        ) as staged_rows

    union all

    select
        'raw.survey_answers' as raw_table,
        'stg_surveys__answers' as staging_model,
        (
            select count(*)

            from raw_answers
        ) as raw_rows,
        (
            select count(*)

            from staged_answers
        ) as staged_rows

),

final as (

    select * from row_counts

    where raw_rows <> staged_rows

)

select * from final
