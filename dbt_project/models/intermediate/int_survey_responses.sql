/*
    grain: one survey response, the last one of each respondent in each wave

      The loader keeps that one response: raw's key is a hash of survey, wave
      and respondent, and a later submission replaces an earlier one
      (ingestion/sources/surveys/land.py, the one place of the rule; staging
      tests the key).

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
        survey_id,
        survey_wave,
        min({{ utc_date('submitted_at') }}) as wave_date

    from responses

    group by survey_id, survey_wave

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

team_matches_ranked as (

    -- a name match wins over an id match
    select
        responses.response_key,
        teams.team_id,
        row_number() over (
            partition by responses.response_key
            order by
                case when lower(responses.team_answer) = lower(trim(teams.team_name)) then 0 else 1 end,
                teams.team_id
        ) as row_rank

    from responses

    inner join teams
        on
            lower(responses.team_answer) = lower(trim(teams.team_name))
            or lower(responses.team_answer) = lower(trim(teams.team_id))

),

team_matches as (

    select
        response_key,
        team_id

    from team_matches_ranked

    where row_rank = 1

),

final as (

    select
        responses.response_key,
        responses.survey_id,
        responses.survey_format,
        responses.survey_wave,
        wave_dates.wave_date,
        responses.submitted_at,
        responses.respondent_key,
        team_matches.team_id,
        scores.satisfaction_score,
        coalesce(scores.likert_answers, 0) as likert_answers,
        scores.enps_score

    from responses

    inner join wave_dates
        on
            responses.survey_id = wave_dates.survey_id
            and responses.survey_wave = wave_dates.survey_wave

    left join team_matches
        on responses.response_key = team_matches.response_key

    left join scores
        on responses.response_key = scores.response_key

)

select * from final
