with

status_changes as (

    select * from {{ ref('int_status_changes') }}

),

item_teams as (

    select * from {{ ref('int_work_item_teams') }}

),

final as (

    select
        status_changes.source,
        status_changes.work_item_id,
        status_changes.change_id,
        cast(status_changes.sequence_number as integer) as sequence_number,
        status_changes.changed_at,
        status_changes.from_status,
        status_changes.from_status_name,
        status_changes.from_category,
        status_changes.to_status,
        status_changes.to_status_name,
        status_changes.to_category,
        status_changes.is_reopen,
        item_teams.team_id

    from status_changes

    inner join item_teams
        on
            status_changes.source = item_teams.source
            and status_changes.work_item_id = item_teams.work_item_id

)

select * from final
