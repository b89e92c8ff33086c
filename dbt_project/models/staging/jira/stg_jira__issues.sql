with

source as (

    select * from {{ source('jira', 'issues') }}

),

renamed as (

    select
        issue_id,
        issue_key,
        project_key,
        payload ->> '$.fields.issuetype.id' as issue_type_id,
        payload ->> '$.fields.issuetype.name' as issue_type,
        payload ->> '$.fields.summary' as summary,
        payload ->> '$.fields.status.id' as status_id,
        payload ->> '$.fields.status.name' as status_name,
        payload ->> '$.fields.status.statusCategory.key' as status_category_key,
        payload ->> '$.fields.resolution.name' as resolution_name,
        payload ->> '$.fields.assignee.accountId' as assignee_account_id,
        lower(payload ->> '$.fields.assignee.emailAddress') as assignee_email,
        {{ json_string_list('payload', '$.fields.labels[*]') }} as labels,
        cast(payload ->> '$.fields.duedate' as date) as due_date,
        {{ parse_jira_timestamp("payload ->> '$.fields.created'") }} as created_at,
        {{ parse_jira_timestamp("payload ->> '$.fields.resolutiondate'") }} as resolved_at,
        updated_at,
        changelog_total,
        _loaded_at as loaded_at,
        _run_id as run_id

    from source

    where not is_deleted

)

select * from renamed
