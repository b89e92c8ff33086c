-- grain: one id the roster's other_ids list (Segment userId, Okta actor id, …)
--
-- The email it names: an id listed by two people names the first email, so a
-- use counts for one person only.
with

people as (

    select * from {{ ref('int_people__team_periods') }}

),

listed_ids as (

    select
        email,
        {{ unnest_list('other_ids') }} as other_id

    from people

),

final as (

    select
        trim(other_id) as other_id,
        min(email) as email

    from listed_ids

    where trim(other_id) <> ''

    group by trim(other_id)

)

select * from final
