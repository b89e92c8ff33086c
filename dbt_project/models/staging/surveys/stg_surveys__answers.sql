with

source as (

    select * from {{ source('surveys', 'answers') }}

),

renamed as (

    select
        response_key,
        item_id,
        item_kind,
        answer_value,
        scale_min,
        scale_max,
        _loaded_at as loaded_at,
        _run_id as run_id

    from source

)

select * from renamed
