{{ config(meta={'dagster': {'ref': {'name': 'fct_work_items'}}}) }}
-- Every issue staged from a tracker (pull requests aside) reaches
-- fct_work_items exactly once: nothing is lost or doubled on the way.
with

jira_issues as (

    select * from {{ ref('stg_jira__issues') }}

),

github_issues as (

    select * from {{ ref('stg_github__issues') }}

),

linear_issues as (

    select * from {{ ref('stg_linear__issues') }}

),

work_items as (

    select * from {{ ref('fct_work_items') }}

),

staged as (

    select
        'jira' as source,
        count(*) as staged_items

    from jira_issues

    union all

    select
        'github' as source,
        count(*) as staged_items

    from github_issues

    where not is_pull_request

    union all

    select
        'linear' as source,
        count(*) as staged_items

    from linear_issues

),

published as (

    select
        source,
        count(*) as published_items

    from work_items

    group by source

),

final as (

    select
        staged.source,
        staged.staged_items,
        coalesce(published.published_items, 0) as published_items

    from staged

    left join published
        on staged.source = published.source

    where staged.staged_items <> coalesce(published.published_items, 0)

)

select * from final
