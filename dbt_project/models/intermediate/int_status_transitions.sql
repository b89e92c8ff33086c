-- grain: one raw status change of one work item, every tracker (not yet categorised)
with

jira_transitions as (

    select * from {{ ref('int_jira__status_transitions') }}

),

github_transitions as (

    select * from {{ ref('int_github__status_transitions') }}

),

linear_transitions as (

    select * from {{ ref('int_linear__status_transitions') }}

),

unioned as (

    select
        source,
        work_item_id,
        change_id,
        changed_at,
        from_status,
        to_status,
        cast(sort_key as {{ dbt.type_bigint() }}) as sort_key,
        cast(sort_subkey as {{ dbt.type_int() }}) as sort_subkey,
        _loaded_at as loaded_at

    from jira_transitions

    union all

    select
        source,
        work_item_id,
        change_id,
        changed_at,
        from_status,
        to_status,
        cast(sort_key as {{ dbt.type_bigint() }}) as sort_key,
        cast(sort_subkey as {{ dbt.type_int() }}) as sort_subkey,
        _loaded_at as loaded_at

    from github_transitions

    union all

    select
        source,
        work_item_id,
        change_id,
        changed_at,
        from_status,
        to_status,
        cast(sort_key as {{ dbt.type_bigint() }}) as sort_key,
        cast(sort_subkey as {{ dbt.type_int() }}) as sort_subkey,
        loaded_at

    from linear_transitions

),

final as (

    select
        *,
        -- transitions are ordered by time, then id
        row_number() over (
            partition by source, work_item_id
            order by changed_at, sort_key nulls last, sort_subkey, change_id
        ) as sequence_number

    from unioned

)

select * from final
