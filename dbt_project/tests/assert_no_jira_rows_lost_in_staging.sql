{{ config(meta={'dagster': {'ref': {'name': 'stg_jira__issues'}}}) }}
-- Every Jira row landed in raw reaches staging (issues but deleted ones,
-- changelog histories that change something, statuses): a staging model that
-- drops rows (a join, a filter, a bad cast) fails here instead of shrinking
-- the marts without a word.
with

raw_issues as (

    select * from {{ source('jira', 'issues') }}

),

staged_issues as (

    select * from {{ ref('stg_jira__issues') }}

),

raw_changelogs as (

    select * from {{ source('jira', 'changelogs') }}

),

staged_changelogs as (

    select * from {{ ref('stg_jira__changelogs') }}

),

raw_statuses as (

    select * from {{ source('jira', 'statuses') }}

),

staged_statuses as (

    select * from {{ ref('stg_jira__statuses') }}

),

row_counts as (

    select
        'raw.jira_issues' as raw_table,
        'stg_jira__issues' as staging_model,
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
        'raw.jira_changelogs' as raw_table,
        'stg_jira__changelogs' as staging_model,
        (
            select count(*)

            from raw_changelogs

            where json_array_length(payload, '$.items') > 0
        ) as raw_rows,
        (
            select count(distinct history_id)

            from staged_changelogs
        ) as staged_rows

    union all

    select
        'raw.jira_statuses' as raw_table,
        'stg_jira__statuses' as staging_model,
        (
            select count(*)

            from raw_statuses
        ) as raw_rows,
        (
            select count(*)

            from staged_statuses
        ) as staged_rows

),

final as (

    select * from row_counts

    where raw_rows <> staged_rows

)

select * from final
