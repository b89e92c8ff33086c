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
        payload ->> '$.title' as title,
        payload ->> '$.state' as state,
        payload ->> '$.state_reason' as state_reason,
        payload ->> '$.type.name' as issue_type,
        lower(payload ->> '$.assignee.login') as assignee_login,
        {{ json_string_list('payload', '$.labels[*].name') }} as labels,
        payload ->> '$.milestone.title' as milestone_title,
        {{ parse_iso_timestamp("payload ->> '$.milestone.due_on'") }} as milestone_due_at,
        {{ parse_iso_timestamp("payload ->> '$.created_at'") }} as created_at,
        {{ parse_iso_timestamp("payload ->> '$.closed_at'") }} as closed_at,
        updated_at,
        (payload -> '$.pull_request') is not null as is_pull_request,
        _loaded_at as loaded_at,
        _run_id as run_id

    from source

    where not is_deleted

)

select * from renamed
