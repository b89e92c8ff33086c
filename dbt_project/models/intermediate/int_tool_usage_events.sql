{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['event_source', 'event_key'],
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_rows_of_other_rules(tool_usage_events_rules_hash()) }}",
        post_hook="{{ flag_removed_usage_events() }}",
    )
}}
/*
    grain: one use of a catalogued tool by one email

    Two inputs: usage log events whose tool is a known alias, and successful
    Okta SSO events (user.authentication.sso) whose AppInstance target's
    displayName is a known alias. Both compared case-insensitively.

    Incremental (macros/incremental.sql): each run matches only the events
    loaded since the high-water mark. A usage file that changed replaces its
    earlier rows in raw; events that disappeared that way are kept here with
    is_removed set (and a fresh _loaded_at), so fct_tool_usage_daily knows
    which days to recount; Okta's System Log only grows. A changed tool
    catalog rebuilds the model.
*/
with

rules as (

    -- the rules the rows are computed with (macros/incremental.sql), computed once
    select {{ tool_usage_events_rules_hash() }} as rules_hash

),

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
        tool_aliases.tool_id,
        usage_events.source_file,
        usage_events.loaded_at

    from usage_events

    inner join tool_aliases
        on lower(trim(usage_events.tool_alias)) = tool_aliases.alias

    where {{ loaded_since_watermark('usage_events.loaded_at') }}

),

sso_uses as (

    select
        'okta_sso' as event_source,
        okta_events.event_uuid as event_key,
        okta_events.published_at as occurred_at,
        okta_events.actor_email as user_email,
        tool_aliases.tool_id,
        cast(null as {{ dbt.type_string() }}) as source_file,
        okta_events.loaded_at

    from okta_events

    inner join tool_aliases
        on lower(trim(okta_events.app_instance_name)) = tool_aliases.alias

    where
        okta_events.event_type = 'user.authentication.sso'
        and okta_events.outcome_result = 'SUCCESS'
        and {{ loaded_since_watermark('okta_events.loaded_at') }}

),

uses as (

    select * from log_uses
    union all
    select * from sso_uses

),

final as (

    select
        event_source,
        event_key,
        occurred_at,
        -- the day of use is the UTC date
        {{ utc_date('occurred_at') }} as usage_date,
        user_email,
        tool_id,
        -- the usage log file (null for Okta): a file landed again replaces its earlier rows
        source_file,
        false as is_removed,
        loaded_at as _loaded_at,
        (select rules.rules_hash from rules) as _rules_hash

    from uses

)

select * from final
