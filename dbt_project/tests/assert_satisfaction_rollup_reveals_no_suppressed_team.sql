{{ config(meta={'dagster': {'ref': {'name': 'satisfaction_by_wave'}}}) }}
-- The organisation's scores pool exactly the answers of the teams shown in
-- the wave: organisation minus the shown teams must leave no answer, or a
-- suppressed team's answers could be worked out by subtraction. Returns the
-- waves where anything is left over.
with

satisfaction as (

    select * from {{ ref('satisfaction_by_wave') }}

),

organisation as (

    select
        survey_wave,
        scored_respondents

    from satisfaction

    where team_id = {{ organisation_team_id() }}

),

shown_teams as (

    select
        survey_wave,
        sum(scored_respondents) as scored_respondents

    from satisfaction

    where
        team_id <> {{ organisation_team_id() }}
        and not is_suppressed

    group by survey_wave

),

final as (

    select
        organisation.survey_wave,
        organisation.scored_respondents,
        coalesce(shown_teams.scored_respondents, 0) as shown_scored_respondents

    from organisation

    left join shown_teams
        on organisation.survey_wave = shown_teams.survey_wave

    where organisation.scored_respondents <> coalesce(shown_teams.scored_respondents, 0)

)

select * from final
