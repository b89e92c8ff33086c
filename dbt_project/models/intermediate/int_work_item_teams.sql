/*
    grain: one work item, with the one team it counts for

    1. the team that owns its project / repository / Linear team (ownership seed);
    2. else its assignee's team on the day it was resolved (UTC);
    3. else, while unresolved, its assignee's team today.
    Neither → team_id null: the item stays in fct_work_items but no team mart
    counts it.
*/
with

work_items as (

    select * from {{ ref('int_work_items') }}

),

timings as (

    select * from {{ ref('int_work_item_timings') }}

),

people as (

    select * from {{ ref('int_people__team_periods') }}

),

ownership as (

    select * from {{ ref('ownership') }}

),

items as (

    select
        work_items.source,
        work_items.work_item_id,
        work_items.container,
        work_items.assignee_email,
        timings.resolved_at,
        coalesce({{ utc_date('timings.resolved_at') }}, {{ today() }}) as attribution_date

    from work_items

    inner join timings
        on
            work_items.source = timings.source
            and work_items.work_item_id = timings.work_item_id

),

owners as (

    select
        lower(trim(source)) as source,
        lower(trim(container)) as container,
        min(team_id) as team_id

    from ownership

    group by lower(trim(source)), lower(trim(container))

),

assignee_teams_ranked as (

    select
        items.source,
        items.work_item_id,
        people.team_id,
        row_number() over (
            partition by items.source, items.work_item_id
            order by people.valid_from desc, people.team_id asc
        ) as row_rank

    from items

    inner join people
        on
            items.assignee_email = people.email
            and items.attribution_date >= people.valid_from
            and (people.valid_to is null or items.attribution_date < people.valid_to)

),

assignee_teams as (

    select
        source,
        work_item_id,
        team_id

    from assignee_teams_ranked

    where row_rank = 1

),

final as (

    select
        items.source,
        items.work_item_id,
        coalesce(owners.team_id, assignee_teams.team_id) as team_id,
        case
            when owners.team_id is not null then 'ownership'
            when assignee_teams.team_id is not null and items.resolved_at is not null
                then 'assignee_at_resolution'
            when assignee_teams.team_id is not null then 'assignee_now'
        end as team_attribution

    from items

    left join owners
        on
            items.source = owners.source
            and lower(items.container) = owners.container

    left join assignee_teams
        on
            items.source = assignee_teams.source
            and items.work_item_id = assignee_teams.work_item_id

)

select * from final
