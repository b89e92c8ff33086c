{{
    config(
        materialized='incremental',
        incremental_strategy='replace_partitions',
        unique_key='usage_date',
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_rows_of_other_rules(tool_usage_daily_rules_hash()) }}",
    )
}}
/*
    Incremental (macros/incremental.sql): each run recounts the whole of every
    day that received (or lost) a usage event since the high-water mark, late
    events included, and replaces those days. A changed roster or tool
    catalog rebuilds the table.
*/
with

rules as (

    -- the rules the rows are computed with (macros/incremental.sql), computed once
    select {{ tool_usage_daily_rules_hash() }} as rules_hash

),

tool_usage as (

    select * from {{ ref('int_tool_usage_events') }}

),

people as (

    select * from {{ ref('int_people__team_periods') }}

),

new_loads as (

    -- days that received or lost an event since the high-water mark
    select distinct usage_date

    from tool_usage

    where {{ loaded_since_watermark('_loaded_at') }}

),

changed_days as (

    -- a day's rows carry the latest load of the events that still count, as a full build would
    select
        new_loads.usage_date,
        max(case when not tool_usage.is_removed then tool_usage._loaded_at end) as loaded_at

    from new_loads

    inner join tool_usage
        on new_loads.usage_date = tool_usage.usage_date

    group by new_loads.usage_date

),

dated_uses as (

    select
        tool_usage.event_source,
        tool_usage.user_email,
        tool_usage.tool_id,
        tool_usage.usage_date

    from tool_usage

    inner join changed_days
        on tool_usage.usage_date = changed_days.usage_date

    where not tool_usage.is_removed

),

identities as (

    -- an id of the roster's other_ids names the person's email
    select * from {{ ref('int_usage_identities') }}

),

resolved_uses as (

    -- a usage identity is an email, or an id the roster knows
    select
        dated_uses.tool_id,
        dated_uses.usage_date,
        dated_uses.event_source,
        coalesce(identities.email, dated_uses.user_email) as user_email

    from dated_uses

    left join identities
        on dated_uses.user_email = identities.other_id

),

matched_uses as (

    -- only people on the roster that day count
    select
        people.person_id,
        people.team_id,
        resolved_uses.tool_id,
        resolved_uses.usage_date,
        resolved_uses.event_source

    from resolved_uses

    inner join people
        on
            resolved_uses.user_email = people.email
            and resolved_uses.usage_date >= people.valid_from
            and (people.valid_to is null or resolved_uses.usage_date < people.valid_to)

),

daily as (

    select
        matched_uses.person_id,
        matched_uses.tool_id,
        matched_uses.usage_date,
        min(matched_uses.team_id) as team_id,
        count(*) as events,
        count(case when matched_uses.event_source = 'okta_sso' then 1 end) as sso_events,
        count(case when matched_uses.event_source = 'usage_log' then 1 end) as log_events

    from matched_uses

    group by matched_uses.person_id, matched_uses.tool_id, matched_uses.usage_date

),

counted as (

    select
        daily.person_id,
        daily.tool_id,
        daily.usage_date,
        daily.team_id,
        daily.events,
        daily.sso_events,
        daily.log_events,
        changed_days.loaded_at as _loaded_at,
        (select rules.rules_hash from rules) as _rules_hash

    from daily

    inner join changed_days
        on daily.usage_date = changed_days.usage_date

),

{% if is_incremental() %}

    final as (

        select * from counted

        union all

        -- one tombstone per recounted day: the day is replaced as a whole
        select
            cast(null as {{ dbt.type_string() }}) as person_id,
            cast(null as {{ dbt.type_string() }}) as tool_id,
            usage_date,
            cast(null as {{ dbt.type_string() }}) as team_id,
            cast(null as {{ dbt.type_bigint() }}) as events,
            cast(null as {{ dbt.type_bigint() }}) as sso_events,
            cast(null as {{ dbt.type_bigint() }}) as log_events,
            cast(null as {{ type_timestamptz() }}) as _loaded_at,
            cast(null as {{ dbt.type_string() }}) as _rules_hash

        from changed_days

    )

{% else %}

    final as (

        select * from counted

    )

{% endif %}

select * from final
