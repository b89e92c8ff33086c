with

source as (

    select * from {{ source('github', 'pull_requests') }}

),

renamed as (

    select
        pull_request_id,
        repository,
        pr_number,
        repository || '#' || pr_number as pull_request_key,
        {{ json_text('payload', '$.title') }} as title,
        {{ json_text('payload', '$.state') }} as state,
        lower({{ json_text('payload', '$.user.login') }}) as author_login,
        {{ parse_iso_timestamp(json_text('payload', '$.created_at')) }} as created_at,
        {{ parse_iso_timestamp(json_text('payload', '$.closed_at')) }} as closed_at,
        {{ parse_iso_timestamp(
            'coalesce(' ~ json_text('payload', '$.merged_at') ~ ', ' ~ json_text('payload', '$.pull_request.merged_at') ~ ')'
        ) }} as merged_at,
        updated_at,
        _loaded_at as loaded_at,
        _run_id as run_id

    from source

)

select * from renamed
