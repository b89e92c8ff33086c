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

team_counts as (

    select
        survey_id,
        survey_wave,
        team_id,
        count(*) as respondents

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
        coalesce(team_counts.respondents, 0) as respondents,
        coalesce(headcounts.headcount, 0) as headcount

    from teams

    cross join waves

    left join headcounts
        on
            teams.team_id = headcounts.team_id
            and waves.survey_id is not distinct from headcounts.survey_id
            and waves.survey_wave = headcounts.survey_wave

    left join team_counts
        on
            teams.team_id = team_counts.team_id
            and waves.survey_id is not distinct from team_counts.survey_id
            and waves.survey_wave = team_counts.survey_wave

    where
        team_counts.respondents > 0
        or headcounts.headcount > 0

),

organisation_waves as (

    -- counts are shown for every team, so the organisation's are all teams' counts
    select
        {{ organisation_team_id() }} as team_id,
        waves.survey_id,
        waves.survey_wave,
        waves.wave_date,
        cast(coalesce(sum(team_waves.respondents), 0) as {{ dbt.type_bigint() }}) as respondents,
        cast(coalesce(sum(team_waves.headcount), 0) as {{ dbt.type_bigint() }}) as headcount

    from waves

    left join team_waves
        on
            waves.survey_id is not distinct from team_waves.survey_id
            and waves.survey_wave = team_waves.survey_wave

    group by waves.survey_id, waves.survey_wave, waves.wave_date

),

shown_responses as (

    -- suppression comes first: only the answers of team-waves with enough respondents
    select responses.*

    from responses

    inner join team_waves
        on
            responses.team_id = team_waves.team_id
            and responses.survey_id is not distinct from team_waves.survey_id
            and responses.survey_wave = team_waves.survey_wave

    where team_waves.respondents >= {{ var('anonymity_threshold') }}

),

scored_responses as (

    -- the organisation pools the shown teams' answers only: organisation minus
    -- the shown teams leaves nothing, so no suppressed team can be recovered
    {{ with_organisation_rows('shown_responses', ['survey_id', 'survey_wave', 'satisfaction_score', 'enps_score']) }}

),

scores as (

    select
        team_id,
        survey_id,
        survey_wave,
        count(*) as scored_respondents,
        {{ exact_avg('satisfaction_score') }} as satisfaction_score,
        cast(
            count(case when enps_score >= 9 then 1 end) - count(case when enps_score <= 6 then 1 end)
            as {{ type_double() }}
        ) * 100
        / nullif(count(enps_score), 0) as enps

    from scored_responses

    group by team_id, survey_id, survey_wave

),

result_rows as (

    select * from team_waves
    union all
    select * from organisation_waves

),

final as (

    select
        result_rows.team_id,
        result_rows.survey_id,
        result_rows.survey_wave,
        result_rows.wave_date,
        result_rows.respondents,
        result_rows.headcount,
        cast(result_rows.respondents as {{ type_double() }}) / nullif(result_rows.headcount, 0) as response_rate,
        coalesce(scores.scored_respondents, 0) as scored_respondents,
        case
            when scores.scored_respondents >= {{ var('anonymity_threshold') }} then scores.satisfaction_score
        end as satisfaction_score,
        case
            when scores.scored_respondents >= {{ var('anonymity_threshold') }} then scores.enps
        end as enps,
        coalesce(scores.scored_respondents, 0) < {{ var('anonymity_threshold') }} as is_suppressed,
        {{ period_is_complete('result_rows.wave_date', 'day', var('survey_wave_days')) }} as is_complete

    from result_rows

    left join scores
        on
            result_rows.team_id = scores.team_id
            and result_rows.survey_id is not distinct from scores.survey_id
            and result_rows.survey_wave = scores.survey_wave

)

select * from final
