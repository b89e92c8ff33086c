with

source as (

    select * from {{ source('github', 'issues') }}

),

renamed as (

    select
        issue_id,
        repository,
        issue_number,
        repository || '#' || issue_number as issue_key,
        {{ json_text('payload', '$.title') }} as title,
        {{ json_text('payload', '$.state') }} as state,
        {{ json_text('payload', '$.state_reason') }} as state_reason,
        {{ json_text('payload', '$.type.name') }} as issue_type,
        lower({{ json_text('payload', '$.assignee.login') }}) as assignee_login,
        {{ json_string_list('payload', '$.labels[*].name') }} as labels,
        {{ json_text('payload', '$.milestone.title') }} as milestone_title,
        {{ parse_iso_timestamp(json_text('payload', '$.milestone.due_on')) }} as milestone_due_at,
        {{ parse_iso_timestamp(json_text('payload', '$.created_at')) }} as created_at,
        {{ parse_iso_timestamp(json_text('payload', '$.closed_at')) }} as closed_at,
        updated_at,
        {{ json_has('payload', '$.pull_request') }} as is_pull_request,
        _loaded_at as loaded_at,
        _run_id as run_id

    from source

    where not is_deleted

)

select * from renamed
