{{ config(severity='error', meta={'dagster': {'ref': {'name': 'stg_jira__changelogs'}}}) }}
-- Jira embeds at most a page of changelog in search results; the loader must
-- complete it from /issue/{key}/changelog. Fewer histories landed than the
-- changelog.total the API reported means status history (and so lead, cycle
-- and reopen metrics) is missing for that issue: an error, so those numbers
-- are never published.
with

issues as (

    select * from {{ ref('stg_jira__issues') }}

),

changelogs as (

    select * from {{ ref('stg_jira__changelogs') }}

),

landed as (

    select
        issue_id,
        count(distinct history_id) as landed_histories

    from changelogs

    group by issue_id

),

final as (

    select
        issues.issue_key,
        issues.changelog_total,
        coalesce(landed.landed_histories, 0) as landed_histories

    from issues

    left join landed
        on issues.issue_id = landed.issue_id

    where issues.changelog_total > coalesce(landed.landed_histories, 0)

)

select * from final
