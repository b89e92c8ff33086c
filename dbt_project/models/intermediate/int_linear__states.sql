-- grain: one Linear workflow state, as the issues that are in it show it
with

linear_issues as (

    select * from {{ ref('stg_linear__issues') }}

),

final as (

    select
        state_id,
        min(state_name) as state_name,
        min(state_type) as state_type

    from linear_issues

    where state_id is not null

    group by state_id

)

select * from final
