with

responses as (

    select * from {{ ref('int_survey_responses') }}

),

final as (

    select
        response_key,
        survey_id,
        survey_wave,
        wave_date,
        submitted_at,
        team_id,
        respondent_key,
        satisfaction_score,
        enps_score,
        case
            when enps_score >= 9 then 'promoter'
            when enps_score >= 7 then 'passive'
            when enps_score >= 0 then 'detractor'
        end as enps_category

    from responses

)

select * from final
