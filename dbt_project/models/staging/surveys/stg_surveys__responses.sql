with

source as (

    select * from {{ source('surveys', 'responses') }}

),

renamed as (

    select
        response_key,
        survey_id,
        survey_format,
        survey_wave,
        submitted_at,
        respondent_key,
        nullif(trim(team_answer), '') as team_answer,
        _source_file as source_file,
        _line_number as line_number,
        _loaded_at as loaded_at,
        _run_id as run_id

    from source

)

select * from renamed
