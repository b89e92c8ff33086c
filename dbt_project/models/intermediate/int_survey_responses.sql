/*
    grain: one survey response, the last one of each respondent in each wave

      satisfaction_score  mean of the response's Likert answers, each normalised
                          to 0–100 by (value − min) / (max − min) × 100; blanks ignored
      enps_score          the answer to the 0–10 recommend question
      team_id             the team the respondent named, matched to a team name
                          or id case-insensitively (null when nothing matches)
      wave_date           the first submission date (UTC) of the wave, any team
*/
with

responses as (

    select * from {{ ref('stg_surveys__responses') }}

),

answers as (

    select * from {{ ref('stg_surveys__answers') }}

),

teams as (

    select * from {{ ref('teams') }}

),

wave_dates as (

    select
        survey_wave,
        min({{ utc_date('submitted_at') }}) as wave_date

    from responses

    group by survey_wave

),

latest_responses as (

    select *

    from responses

    qualify row_number() over (
            partition by survey_wave, respondent_key
            order by submitted_at desc, response_key desc
        ) = 1

),

scores as (

    select
        response_key,
        {{ exact_avg(
            "case when item_kind = 'likert' and scale_max > scale_min"
            ~ " then (answer_value - scale_min) / (scale_max - scale_min) * 100 end"
        ) }} as satisfaction_score,
        count(case when item_kind = 'likert' then answer_value end) as likert_answers,
        max(case when item_kind = 'recommend' then answer_value end) as enps_score

    from answers

    group by response_key

),

team_matches as (

    select
        latest_responses.response_key,
        teams.team_id

    from latest_responses

    inner join teams
        on
            lower(latest_responses.team_answer) = lower(trim(teams.team_name))
            or lower(latest_responses.team_answer) = lower(trim(teams.team_id))

    -- a name match wins over an id match
    qualify row_number() over (
            partition by latest_responses.response_key
            order by
                case when lower(latest_responses.team_answer) = lower(trim(teams.team_name)) then 0 else 1 end,
                teams.team_id
        ) = 1

),

final as (

    select
        latest_responses.response_key,
        latest_responses.survey_id,
        latest_responses.survey_format,
        latest_responses.survey_wave,
        wave_dates.wave_date,
        latest_responses.submitted_at,
        latest_responses.respondent_key,
        team_matches.team_id,
        scores.satisfaction_score,
        coalesce(scores.likert_answers, 0) as likert_answers,
        scores.enps_score

    from latest_responses

    inner join wave_dates
        on latest_responses.survey_wave = wave_dates.survey_wave

    left join team_matches
        on latest_responses.response_key = team_matches.response_key

    left join scores
        on latest_responses.response_key = scores.response_key

)

select * from final
