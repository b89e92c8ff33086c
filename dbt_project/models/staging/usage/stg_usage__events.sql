with

source as (

    select * from {{ source('usage', 'events') }}

),

renamed as (

    select
        event_key,
        occurred_at,
        lower(trim(user_email)) as user_email,
        tool as tool_alias,
        event as event_name,
        _source_file as source_file,
        _line_number as line_number,
        _loaded_at as loaded_at,
        _run_id as run_id

    from source

)

select * from renamed
