with

tools as (

    select * from {{ ref('tools') }}

),

tool_usage as (

    select * from {{ ref('int_tool_usage_events') }}

),

first_uses as (

    select
        tool_id,
        min(usage_date) as first_used_on

    from tool_usage

    where not is_removed

    group by tool_id

),

final as (

    select
        tools.tool_id,
        tools.tool_name,
        tools.aliases,
        tools.rollout_date,
        first_uses.first_used_on

    from tools

    left join first_uses
        on tools.tool_id = first_uses.tool_id

)

select * from final
