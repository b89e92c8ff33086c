/*
    grain: one tool × day (UTC) with uses by identities the roster does not know

    A use counts in fct_tool_usage_daily only when its identity is a roster
    email or one of the roster's other_ids. The others (a contractor, a
    service account, an anonymous id, a user id missing from other_ids) land
    in raw and are counted here, never named: a roster to complete, not an
    error.
*/
with

tool_usage as (

    select * from {{ ref('int_tool_usage_events') }}

),

identities as (

    select * from {{ ref('int_usage_identities') }}

),

people as (

    select * from {{ ref('int_people__team_periods') }}

),

roster_emails as (

    -- anyone on the roster, in any period: a use outside a team period is not "unknown"
    select distinct email

    from people

),

unmatched_uses as (

    select
        tool_usage.tool_id,
        tool_usage.usage_date,
        tool_usage.event_source,
        tool_usage.user_email

    from tool_usage

    left join identities
        on tool_usage.user_email = identities.other_id

    left join roster_emails
        on tool_usage.user_email = roster_emails.email

    where
        not tool_usage.is_removed
        and identities.other_id is null
        and roster_emails.email is null

),

final as (

    select
        tool_id,
        usage_date,
        count(distinct user_email) as unmatched_identities,
        count(*) as unmatched_events,
        count(case when event_source = 'usage_log' then 1 end) as log_events,
        count(case when event_source = 'okta_sso' then 1 end) as sso_events

    from unmatched_uses

    group by tool_id, usage_date

)

select * from final
