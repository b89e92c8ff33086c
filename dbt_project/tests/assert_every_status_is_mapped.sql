-- A raw status that neither the status_mapping seed nor the tracker's default
-- maps to a category fails the build: statuses are never guessed.
with

status_categories as (

    select * from {{ ref('int_status_categories') }}

),

final as (

    select
        source,
        project,
        issue_type,
        raw_status,
        raw_status_name

    from status_categories

    where status_category is null

)

select * from final
