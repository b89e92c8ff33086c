{{ config(meta={'dagster': {'ref': {'name': 'stg_github__issues'}}}) }}
-- Every GitHub row landed in raw reaches staging (issues but deleted ones,
-- pull requests, issue events): a staging model that drops rows (a join, a
-- filter, a bad cast) fails here instead of shrinking the marts without a
-- word.
with

raw_issues as (

    select * from {{ source('github', 'issues') }}

),

staged_issues as (

    select * from {{ ref('stg_github__issues') }}

),

raw_pull_requests as (

    select * from {{ source('github', 'pull_requests') }}

),

staged_pull_requests as (

    select * from {{ ref('stg_github__pull_requests') }}

),

raw_issue_events as (

    select * from {{ source('github', 'issue_events') }}

),

staged_issue_events as (

    select * from {{ ref('stg_github__issue_events') }}

),

row_counts as (

    select
        'raw.github_issues' as raw_table,
        'stg_github__issues' as staging_model,
        (
            select count(*)

            from raw_issues

            where not is_deleted
        ) as raw_rows,
        (
            select count(*)

            from staged_issues
        ) as staged_rows

    union all

    select
        'raw.github_pull_requests' as raw_table,
        'stg_github__pull_requests' as staging_model,
        (
            select count(*)

            from raw_pull_requests
        ) as raw_rows,
        (
            select count(*)

            from staged_pull_requests
        ) as staged_rows

    union all

    select
        'raw.github_issue_events' as raw_table,
        'stg_github__issue_events' as staging_model,
        (
            select count(*)

            from raw_issue_events
        ) as raw_rows,
        (
            select count(*)

            from staged_issue_events
        ) as staged_rows

),

final as (

    select * from row_counts

    where raw_rows <> staged_rows

)

select * from final
