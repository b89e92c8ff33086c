with

source as (

    select * from {{ source('linear', 'issues') }}

),

renamed as (

    select
        issue_id,
        identifier,
        team_key,
        {{ json_text('payload', '$.title') }} as title,
        {{ json_text('payload', '$.state.id') }} as state_id,
        {{ json_text('payload', '$.state.name') }} as state_name,
        {{ json_text('payload', '$.state.type') }} as state_type,
        lower({{ json_text('payload', '$.assignee.email') }}) as assignee_email,
        {{ json_string_list('payload', '$.labels.nodes[*].name') }} as labels,
        cast({{ json_text('payload', '$.dueDate') }} as date) as due_date,
        {{ parse_iso_timestamp(json_text('payload', '$.createdAt')) }} as created_at,
        {{ parse_iso_timestamp(json_text('payload', '$.startedAt')) }} as started_at,
        {{ parse_iso_timestamp(json_text('payload', '$.completedAt')) }} as completed_at,
        {{ parse_iso_timestamp(json_text('payload', '$.canceledAt')) }} as canceled_at,
        updated_at,
        _loaded_at as loaded_at,
        _run_id as run_id

    from source

    where not is_deleted

)

select * from renamed
