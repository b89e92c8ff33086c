with

source as (

    select * from {{ source('okta', 'system_log') }}

),

renamed as (

    select
        event_uuid,
        {{ parse_iso_timestamp("payload ->> '$.published'") }} as published_at,
        event_type,
        payload ->> '$.actor.type' as actor_type,
        lower(payload ->> '$.actor.alternateId') as actor_email,
        payload ->> '$.outcome.result' as outcome_result,
        {{ okta_app_instance_name('payload') }} as app_instance_name,
        _loaded_at as loaded_at,
        _run_id as run_id

    from source

)

select * from renamed
