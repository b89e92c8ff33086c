with

source as (

    select * from {{ source('jira', 'issues') }}

),

renamed as (

    select
        issue_id,
        issue_key,
        project_key,
        {{ json_text('payload', '$.fields.issuetype.id') }} as issue_type_id,
        {{ json_text('payload', '$.fields.issuetype.name') }} as issue_type,
        coalesce(cast({{ json_text('payload', '$.fields.issuetype.subtask') }} as boolean), false) as is_subtask,
        {{ json_text('payload', '$.fields.summary') }} as summary,
        {{ json_text('payload', '$.fields.status.id') }} as status_id,
        {{ json_text('payload', '$.fields.status.name') }} as status_name,
        {{ json_text('payload', '$.fields.status.statusCategory.key') }} as status_category_key,
        {{ json_text('payload', '$.fields.resolution.name') }} as resolution_name,
        {{ json_text('payload', '$.fields.assignee.accountId') }} as assignee_account_id,
        lower({{ json_text('payload', '$.fields.assignee.emailAddress') }}) as assignee_email,
        {{ json_string_list('payload', '$.fields.labels[*]') }} as labels,
        cast({{ json_text('payload', '$.fields.duedate') }} as date) as due_date,
        {{ parse_jira_timestamp(json_text('payload', '$.fields.created')) }} as created_at,
        {{ parse_jira_timestamp(json_text('payload', '$.fields.resolutiondate')) }} as resolved_at,
        updated_at,
        changelog_total,
        _loaded_at as loaded_at,
        _run_id as run_id

    from source

    where not is_deleted

)

select * from renamed
