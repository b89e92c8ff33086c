with

teams as (

    select * from {{ ref('teams') }}

),

people as (

    select * from {{ ref('int_people__team_periods') }}

),

current_headcounts as (

    select
        team_id,
        count(distinct person_id) as headcount

    from people

    where is_current

    group by team_id

),

final as (

    select
        teams.team_id,
        teams.team_name,
        teams.time_zone,
        coalesce(current_headcounts.headcount, 0) as headcount

    from teams

    left join current_headcounts
        on teams.team_id = current_headcounts.team_id

)

select * from final
