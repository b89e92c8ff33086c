-- A person is on one team at a time: roster periods of the same person must
-- not overlap, or their activity would count for two teams.
with

people as (

    select * from {{ ref('int_people__team_periods') }}

),

final as (

    select
        earlier.person_id,
        earlier.team_id as earlier_team_id,
        earlier.valid_from as earlier_valid_from,
        later.team_id as later_team_id,
        later.valid_from as later_valid_from

    from people as earlier

    inner join people as later
        on
            earlier.person_id = later.person_id
            and earlier.valid_from <= later.valid_from
            and (
                earlier.valid_from < later.valid_from
                or earlier.team_id < later.team_id
            )
            and (earlier.valid_to is null or earlier.valid_to > later.valid_from)

)

select * from final
