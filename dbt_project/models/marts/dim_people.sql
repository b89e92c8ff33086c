with

people as (

    select * from {{ ref('int_people__team_periods') }}

),

ranked_periods as (

    -- the current period, else the most recent one
    select
        person_id,
        team_id,
        role,
        is_current,
        row_number() over (
            partition by person_id
            order by is_current desc, valid_from desc, team_id asc
        ) as row_rank

    from people

),

latest_periods as (

    select
        person_id,
        team_id,
        role,
        is_current

    from ranked_periods

    where row_rank = 1

),

spans as (

    select
        person_id,
        min(valid_from) as first_valid_from,
        {{ dbt.bool_or('valid_to is null') }} as has_open_period,
        max(valid_to) as last_valid_to

    from people

    group by person_id

),

final as (

    select
        latest_periods.person_id,
        case when latest_periods.is_current then latest_periods.team_id end as team_id,
        latest_periods.role,
        latest_periods.is_current as is_active,
        spans.first_valid_from,
        case when not spans.has_open_period then spans.last_valid_to end as left_on

    from latest_periods

    inner join spans
        on latest_periods.person_id = spans.person_id

)

select * from final
