/*
    grain: one row per team × survey × wave × item (Likert items and numeric
    questions; the recommend question is eNPS, in satisfaction_by_wave)

      answers      the team's non-blank answers to the item in the wave
      mean         their mean, on the item's own scale (Likert 1–5, hours, …)
      respondents  the team's respondents to the survey in the wave, which
                   decides suppression exactly as in satisfaction_by_wave:
                   under var anonymity_threshold the mean is null
*/
with

responses as (

    select * from {{ ref('fct_survey_responses') }}

),

answers as (

    select * from {{ ref('stg_surveys__answers') }}

),

team_waves as (

    select
        survey_id,
        survey_wave,
        team_id,
        min(wave_date) as wave_date,
        count(*) as respondents

    from responses

    where team_id is not null

    group by survey_id, survey_wave, team_id

),

item_results as (

    select
        responses.team_id,
        responses.survey_id,
        responses.survey_wave,
        answers.item_id,
        answers.item_kind,
        min(answers.scale_min) as scale_min,
        max(answers.scale_max) as scale_max,
        count(answers.answer_value) as answers,
        {{ exact_avg('answers.answer_value') }} as mean_value

    from responses

    inner join answers
        on responses.response_key = answers.response_key

    where
        responses.team_id is not null
        and answers.item_kind in ('likert', 'numeric')

    group by
        responses.team_id,
        responses.survey_id,
        responses.survey_wave,
        answers.item_id,
        answers.item_kind

),

final as (

    select
        item_results.team_id,
        item_results.survey_id,
        item_results.survey_wave,
        team_waves.wave_date,
        item_results.item_id,
        item_results.item_kind,
        team_waves.respondents,
        item_results.answers,
        case
            when team_waves.respondents >= {{ var('anonymity_threshold') }} then item_results.mean_value
        end as mean,
        item_results.scale_min,
        item_results.scale_max,
        team_waves.respondents < {{ var('anonymity_threshold') }} as is_suppressed

    from item_results

    inner join team_waves
        on
            item_results.team_id = team_waves.team_id
            and item_results.survey_id = team_waves.survey_id
            and item_results.survey_wave = team_waves.survey_wave

)

select * from final
