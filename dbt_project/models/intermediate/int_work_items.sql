/*
    grain: one work item (an issue of Jira, GitHub or Linear; never a pull request)

    Unifies the trackers. current_status is the raw status the status mapping
    reads (Jira status id, GitHub open/assigned/in_progress_label/closed,
    Linear state id). has_canceled_resolution says the tracker resolved it as
    won't-do / not planned / canceled.
*/
with

jira_issues as (

    select * from {{ ref('stg_jira__issues') }}

),

github_issues as (

    select * from {{ ref('stg_github__issues') }}

),

github_transitions as (

    select * from {{ ref('int_github__status_transitions') }}

),

linear_issues as (

    select * from {{ ref('stg_linear__issues') }}

),

people as (

    select * from {{ ref('int_people__team_periods') }}

),

jira_accounts as (

    select
        jira_account_id,
        min(email) as email

    from people

    where jira_account_id is not null

    group by jira_account_id

),

github_logins as (

    select
        github_login,
        min(email) as email

    from people

    where github_login is not null

    group by github_login

),

github_last_transitions_ranked as (

    select
        work_item_id,
        to_status,
        row_number() over (
            partition by work_item_id order by changed_at desc, sort_key desc
        ) as row_rank

    from github_transitions

),

github_last_transitions as (

    select
        work_item_id,
        to_status

    from github_last_transitions_ranked

    where row_rank = 1

),

jira_items as (

    select
        'jira' as source,
        jira_issues.issue_id as work_item_id,
        jira_issues.issue_key as work_item_key,
        jira_issues.project_key as container,
        coalesce(jira_issues.issue_type, 'unknown') as item_type,
        jira_issues.summary as title,
        jira_issues.labels,
        -- the email can be hidden by Jira's privacy settings: fall back on the roster
        coalesce(jira_issues.assignee_email, jira_accounts.email) as assignee_email,
        jira_issues.created_at,
        jira_issues.resolved_at as source_resolved_at,
        jira_issues.due_date,
        jira_issues.status_id as current_status,
        jira_issues.status_name as current_status_name,
        jira_issues.resolution_name as resolution,
        coalesce(
            lower(jira_issues.resolution_name) in (
                {{ lower_string_literals(var('jira_canceled_resolutions')) }}
            ),
            false
        ) as has_canceled_resolution,
        jira_issues.loaded_at

    from jira_issues

    left join jira_accounts
        on jira_issues.assignee_account_id = jira_accounts.jira_account_id

),

github_items as (

    select
        'github' as source,
        cast(github_issues.issue_id as {{ dbt.type_string() }}) as work_item_id,
        github_issues.issue_key as work_item_key,
        github_issues.repository as container,
        coalesce(github_issues.issue_type, 'issue') as item_type,
        github_issues.title,
        github_issues.labels,
        github_logins.email as assignee_email,
        github_issues.created_at,
        github_issues.closed_at as source_resolved_at,
        -- milestones are due on a day; GitHub stores it as an instant on that day
        {{ utc_date('github_issues.milestone_due_at') }} as due_date,
        case
            when github_issues.state = 'closed' then 'closed'
            when github_last_transitions.to_status in ('assigned', 'in_progress_label')
                then github_last_transitions.to_status
            else 'open'
        end as current_status,
        github_issues.state as current_status_name,
        github_issues.state_reason as resolution,
        github_issues.state = 'closed'
        and coalesce(
            lower(github_issues.state_reason) in (
                {{ lower_string_literals(var('github_canceled_state_reasons')) }}
            ),
            false
        ) as has_canceled_resolution,
        github_issues.loaded_at

    from github_issues

    left join github_logins
        on github_issues.assignee_login = github_logins.github_login

    left join github_last_transitions
        on cast(github_issues.issue_id as {{ dbt.type_string() }}) = github_last_transitions.work_item_id

    where not github_issues.is_pull_request

),

linear_items as (

    select
        'linear' as source,
        issue_id as work_item_id,
        identifier as work_item_key,
        team_key as container,
        'issue' as item_type,
        title,
        labels,
        assignee_email,
        created_at,
        coalesce(completed_at, canceled_at) as source_resolved_at,
        due_date,
        state_id as current_status,
        state_name as current_status_name,
        state_type as resolution,
        state_type = 'canceled' as has_canceled_resolution,
        loaded_at

    from linear_issues

),

final as (

    select * from jira_items
    union all
    select * from github_items
    union all
    select * from linear_items

)

select * from final
