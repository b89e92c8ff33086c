-- grain: one name under which a tool appears in Okta app labels or usage logs (lower-cased)
with

tools as (

    select * from {{ ref('tools') }}

),

aliases as (

    select
        tool_id,
        {{ split_to_rows('aliases', '|') }} as alias

    from tools

    where aliases is not null

),

names as (

    -- the tool's own name and id count as aliases too
    select
        tool_id,
        tool_name as alias

    from tools

    union all

    select
        tool_id,
        tool_id as alias

    from tools

    union all

    select
        tool_id,
        alias

    from aliases

),

final as (

    select distinct
        lower(trim(alias)) as alias,
        tool_id

    from names

    where nullif(trim(alias), '') is not null

)

select * from final
