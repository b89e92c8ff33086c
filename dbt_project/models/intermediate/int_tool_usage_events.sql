/*
    grain: one use of a catalogued tool by one email

    Two inputs: usage log events whose tool is a known alias, and successful
    Okta SSO events (user.authentication.sso) whose AppInstance target's
    displayName is a known alias. Both compared case-insensitively.
*/
with

usage_events as (

    select * from {{ ref('stg_usage__events') }}

),

okta_events as (

    select * from {{ ref('stg_okta__system_log') }}

),

tool_aliases as (

    select * from {{ ref('int_tool_aliases') }}

),

log_uses as (

    select
        'usage_log' as event_source,
        usage_events.event_key,
        usage_events.occurred_at,
        usage_events.user_email,
        tool_aliases.tool_id

    from usage_events

    inner join tool_aliases
        on lower(trim(usage_events.tool_alias)) = tool_aliases.alias

),

sso_uses as (

    select
        'okta_sso' as event_source,
        okta_events.event_uuid as event_key,
        okta_events.published_at as occurred_at,
        okta_events.actor_email as user_email,
        tool_aliases.tool_id

    from okta_events

    inner join tool_aliases
        on lower(trim(okta_events.app_instance_name)) = tool_aliases.alias

    where
        okta_events.event_type = 'user.authentication.sso'
        and okta_events.outcome_result = 'SUCCESS'

),

final as (

    select * from log_uses
    union all
    select * from sso_uses

)

select * from final
