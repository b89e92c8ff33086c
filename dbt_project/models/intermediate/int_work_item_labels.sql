-- grain: one label of one work item (lower-cased, trimmed)
with

work_items as (

    select * from {{ ref('int_work_items') }}

),

unnested as (

    select
        source,
        work_item_id,
        {{ unnest_list('labels') }} as label

    from work_items

),

final as (

    select distinct
        source,
        work_item_id,
        lower(trim(label)) as label

    from unnested

    where nullif(trim(label), '') is not null

)

select * from final
