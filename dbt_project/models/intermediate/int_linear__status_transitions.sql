/*
    grain: one status change of one Linear issue

    The raw layer holds each Linear issue's latest version only, so the history
    is rebuilt from its timestamps: startedAt moves it out of the "unstarted"
    pseudo status, completedAt / canceledAt move it to its current state. A
    pseudo status is named after the Linear state type it stands for
    (unstarted, started), which gives its default category; a real state is
    its state id, as in the status_mapping seed.
*/
with

issues as (

    select * from {{ ref('stg_linear__issues') }}

),

started as (

    select
        issue_id,
        'started:' || issue_id as change_id,
        started_at as changed_at,
        'unstarted' as from_status,
        case when state_type = 'started' then state_id else 'started' end as to_status,
        1 as sort_subkey,
        loaded_at

    from issues

    where started_at is not null

),

finished as (

    select
        issue_id,
        'finished:' || issue_id as change_id,
        coalesce(completed_at, canceled_at) as changed_at,
        case when started_at is not null then 'started' else 'unstarted' end as from_status,
        state_id as to_status,
        2 as sort_subkey,
        loaded_at

    from issues

    where
        state_type in ('completed', 'canceled')
        and coalesce(completed_at, canceled_at) is not null

),

transitions as (

    select * from started
    union all
    select * from finished

),

final as (

    select
        'linear' as source,
        issue_id as work_item_id,
        change_id,
        changed_at,
        from_status,
        to_status,
        cast(null as {{ dbt.type_bigint() }}) as sort_key,
        sort_subkey,
        loaded_at

    from transitions

)

select * from final
