with

source as (

    select * from {{ source('linear', 'issues') }}

),

renamed as (

    select
        issue_id,
        identifier,
        team_key,
        payload ->> '$.title' as title,
        payload ->> '$.state.id' as state_id,
        payload ->> '$.state.name' as state_name,
        payload ->> '$.state.type' as state_type,
        lower(payload ->> '$.assignee.email') as assignee_email,
        {{ json_string_list('payload', '$.labels.nodes[*].name') }} as labels,
        cast(payload ->> '$.dueDate' as date) as due_date,
        {{ parse_iso_timestamp("payload ->> '$.createdAt'") }} as created_at,
        {{ parse_iso_timestamp("payload ->> '$.startedAt'") }} as started_at,
        {{ parse_iso_timestamp("payload ->> '$.completedAt'") }} as completed_at,
        {{ parse_iso_timestamp("payload ->> '$.canceledAt'") }} as canceled_at,
        updated_at,
        _loaded_at as loaded_at,
        _run_id as run_id

    from source

    where not is_deleted

)

select * from renamed
