with

work_items as (

    select * from {{ ref('fct_work_items') }}

),

final as (

    select
        source,
        work_item_id,
        work_item_key,
        team_id,
        title,
        created_at as opened_at,
        resolved_at as closed_at,
        status_category,
        is_canceled,
        case
            when resolved_at is not null and not is_canceled
                then {{ days_between('created_at', 'resolved_at') }}
        end as days_to_close,
        case
            when resolved_at is null
                then {{ age_days('created_at') }}
        end as open_age_days

    from work_items

    where is_improvement_action

)

select * from final
