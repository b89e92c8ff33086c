{{ config(meta={'dagster': {'ref': {'name': 'fct_status_changes'}}}) }}
-- Every status transition rebuilt from the trackers' histories reaches
-- fct_status_changes: a transition dropped on the way would shift reopen
-- counts and time in status without any error.
with

status_changes as (

    select * from {{ ref('int_status_changes') }}

),

published_changes as (

    select * from {{ ref('fct_status_changes') }}

),

rebuilt as (

    select
        source,
        count(*) as rebuilt_changes

    from status_changes

    group by source

),

published as (

    select
        source,
        count(*) as published_changes

    from published_changes

    group by source

),

final as (

    select
        rebuilt.source,
        rebuilt.rebuilt_changes,
        coalesce(published.published_changes, 0) as published_changes

    from rebuilt

    left join published
        on rebuilt.source = published.source

    where rebuilt.rebuilt_changes <> coalesce(published.published_changes, 0)

)

select * from final
