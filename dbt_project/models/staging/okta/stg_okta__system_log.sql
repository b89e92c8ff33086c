with

source as (

    select * from {{ source('okta', 'system_log') }}

),

renamed as (

    select
        event_uuid,
        {{ parse_iso_timestamp(json_text('payload', '$.published')) }} as published_at,
        event_type,
        {{ json_text('payload', '$.actor.id') }} as actor_id,
        {{ json_text('payload', '$.actor.type') }} as actor_type,
        lower(trim({{ json_text('payload', '$.actor.alternateId') }})) as actor_login,
        {{ json_text('payload', '$.outcome.result') }} as outcome_result,
        -- the AppInstance entry of target[], wherever it stands (the object
        -- itself: its siblings may lack a displayName)
        {{ json_array_find_text('payload', '$.target[*]', 'type', 'AppInstance', 'displayName') }} as app_instance_name,
        _loaded_at as loaded_at,
        _run_id as run_id

    from source

),

final as (

    select
        event_uuid,
        published_at,
        event_type,
        actor_id,
        actor_type,
        actor_login,
        -- an Okta user keeps their id when their login (email) changes:
        -- every event of the actor counts for the actor's latest login
        -- (the last non-null login: `ignore nulls` is not portable)
        first_value(actor_login) over (
            partition by coalesce(actor_id, actor_login)
            order by
                case when actor_login is null then 1 else 0 end,
                published_at desc,
                event_uuid desc
            rows between unbounded preceding and unbounded following
        ) as actor_email,
        outcome_result,
        app_instance_name,
        -- the query asks Okta for successful SSO only; checked again here
        coalesce(
            event_type = 'user.authentication.sso'
            and outcome_result = 'SUCCESS'
            and app_instance_name is not null,
            false
        ) as is_successful_app_sso,
        loaded_at,
        run_id

    from renamed

)

select * from final
