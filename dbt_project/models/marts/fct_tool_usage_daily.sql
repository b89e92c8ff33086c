with

tool_usage as (

    select * from {{ ref('int_tool_usage_events') }}

),

people as (

    select * from {{ ref('int_people__team_periods') }}

),

dated_uses as (

    select
        event_source,
        event_key,
        user_email,
        tool_id,
        {{ utc_date('occurred_at') }} as usage_date

    from tool_usage

),

matched_uses as (

    -- only people on the roster that day count; the day is the UTC date
    select
        people.person_id,
        people.team_id,
        dated_uses.tool_id,
        dated_uses.usage_date,
        dated_uses.event_source

    from dated_uses

    inner join people
        on
            dated_uses.user_email = people.email
            and dated_uses.usage_date >= people.valid_from
            and (people.valid_to is null or dated_uses.usage_date < people.valid_to)

),

final as (

    select
        person_id,
        tool_id,
        usage_date,
        min(team_id) as team_id,
        count(*) as events,
        count(case when event_source = 'okta_sso' then 1 end) as sso_events,
        count(case when event_source = 'usage_log' then 1 end) as log_events

    from matched_uses

    group by person_id, tool_id, usage_date

)

select * from final
