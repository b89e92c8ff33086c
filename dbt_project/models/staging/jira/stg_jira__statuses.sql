with

source as (

    select * from {{ source('jira', 'statuses') }}

),

renamed as (

    select
        status_id,
        status_name,
        status_category_key,
        {{ json_text('payload', '$.statusCategory.name') }} as status_category_name,
        _loaded_at as loaded_at,
        _run_id as run_id

    from source

)

select * from renamed
