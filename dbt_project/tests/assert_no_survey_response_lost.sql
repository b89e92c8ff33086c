{{ config(meta={'dagster': {'ref': {'name': 'fct_survey_responses'}}}) }}
-- Every respondent of every wave landed in staging reaches
-- fct_survey_responses exactly once (the last answer counts): nothing lost
-- or doubled between the raw export and the mart.
with

staged_responses as (

    select * from {{ ref('stg_surveys__responses') }}

),

survey_responses as (

    select * from {{ ref('fct_survey_responses') }}

),

staged_respondents as (

    select distinct
        survey_wave,
        respondent_key

    from staged_responses

),

staged as (

    select count(*) as respondents_staged

    from staged_respondents

),

published as (

    select count(*) as responses_in_mart

    from survey_responses

),

final as (

    select
        staged.respondents_staged,
        published.responses_in_mart

    from staged

    cross join published

    where staged.respondents_staged <> published.responses_in_mart

)

select * from final
