with

source as (

    select * from {{ source('github', 'issue_events') }}

),

renamed as (

    select
        event_id,
        repository,
        issue_number,
        event,
        {{ parse_iso_timestamp(json_text('payload', '$.created_at')) }} as created_at,
        lower({{ json_text('payload', '$.actor.login') }}) as actor_login,
        lower({{ json_text('payload', '$.assignee.login') }}) as assignee_login,
        {{ json_text('payload', '$.label.name') }} as label_name,
        {{ json_text('payload', '$.state_reason') }} as state_reason,
        _loaded_at as loaded_at,
        _run_id as run_id

    from source

)

select * from renamed
