-- grain: one sprint an issue is in now, as its sprint field shows it (one sprint object)
with

source as (

    select * from {{ source('jira', 'issues') }}

),

issues as (

    select
        issue_id,
        {{ jira_sprint_objects('payload') }} as sprints,
        _loaded_at as loaded_at

    from source

    where not is_deleted

),

sprint_objects as (

    select
        issue_id,
        loaded_at,
        {{ unnest_list('sprints') }} as sprint

    from issues

),

renamed as (

    select
        issue_id,
        {{ json_text('sprint', '$.id') }} as sprint_id,
        {{ json_text('sprint', '$.name') }} as sprint_name,
        lower({{ json_text('sprint', '$.state') }}) as sprint_state,
        {{ json_text('sprint', '$.boardId') }} as board_id,
        {{ json_text('sprint', '$.goal') }} as sprint_goal,
        {{ parse_iso_timestamp(json_text('sprint', '$.startDate')) }} as started_at,
        {{ parse_iso_timestamp(json_text('sprint', '$.endDate')) }} as planned_end_at,
        {{ parse_iso_timestamp(json_text('sprint', '$.completeDate')) }} as completed_at,
        loaded_at

    from sprint_objects

)

select * from renamed
