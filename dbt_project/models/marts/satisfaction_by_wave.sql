with

responses as (

    select * from {{ ref('fct_survey_responses') }}

),

people as (

    select * from {{ ref('int_people__team_periods') }}

),

teams as (

    select * from {{ ref('dim_teams') }}

),

waves as (

    select distinct
        survey_id,
        survey_wave,
        wave_date

    from responses

),

headcounts as (

    -- the team's roster on the wave date (the wave's first submission day)
    select
        waves.survey_id,
        waves.survey_wave,
        people.team_id,
        count(distinct people.person_id) as headcount

    from waves

    inner join people
        on
            waves.wave_date >= people.valid_from
            and (people.valid_to is null or waves.wave_date < people.valid_to)

    group by waves.survey_id, waves.survey_wave, people.team_id

),

team_results as (

    select
        survey_id,
        survey_wave,
        team_id,
        count(*) as respondents,
        {{ exact_avg('satisfaction_score') }} as satisfaction_score,
        count(enps_score) as enps_respondents,
        count(case when enps_score >= 9 then 1 end) as promoters,
        count(case when enps_score <= 6 then 1 end) as detractors

    from responses

    where team_id is not null

    group by survey_id, survey_wave, team_id

),

team_waves as (

    select
        teams.team_id,
        waves.survey_id,
        waves.survey_wave,
        waves.wave_date,
        coalesce(team_results.respondents, 0) as respondents,
        coalesce(headcounts.headcount, 0) as headcount,
        team_results.satisfaction_score,
        cast(team_results.promoters - team_results.detractors as {{ type_double() }}) * 100
        / nullif(team_results.enps_respondents, 0) as enps

    from teams

    cross join waves

    left join headcounts
        on
            teams.team_id = headcounts.team_id
            and waves.survey_id is not distinct from headcounts.survey_id
            and waves.survey_wave = headcounts.survey_wave

    left join team_results
        on
            teams.team_id = team_results.team_id
            and waves.survey_id is not distinct from team_results.survey_id
            and waves.survey_wave = team_results.survey_wave

),

final as (

    select
        team_id,
        survey_id,
        survey_wave,
        wave_date,
        respondents,
        headcount,
        cast(respondents as {{ type_double() }}) / nullif(headcount, 0) as response_rate,
        case
            when respondents >= {{ var('anonymity_threshold') }} then satisfaction_score
        end as satisfaction_score,
        case
            when respondents >= {{ var('anonymity_threshold') }} then enps
        end as enps,
        respondents < {{ var('anonymity_threshold') }} as is_suppressed

    from team_waves

    where
        respondents > 0
        or headcount > 0

)

select * from final
