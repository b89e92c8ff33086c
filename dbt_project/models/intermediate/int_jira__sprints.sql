/*
    grain: one Jira sprint

    Sprints come from the sprint objects on issues (Jira's sprint field:
    id, name, state, boardId, startDate, endDate, completeDate). An issue shows
    a sprint as it was when the issue was last loaded, so the most advanced
    view wins: closed before active before future, then the latest load.
*/
with

issue_sprints as (

    select * from {{ ref('stg_jira__issue_sprints') }}

),

final_ranked as (

    select
        sprint_id,
        sprint_name,
        sprint_state,
        board_id,
        sprint_goal,
        started_at,
        planned_end_at,
        completed_at,
        row_number() over (
            partition by sprint_id
            order by
                case sprint_state when 'closed' then 0 when 'active' then 1 else 2 end asc,
                loaded_at desc,
                issue_id asc
        ) as row_rank

    from issue_sprints

),

final as (

    select
        sprint_id,
        sprint_name,
        sprint_state,
        board_id,
        sprint_goal,
        started_at,
        planned_end_at,
        completed_at

    from final_ranked

    where row_rank = 1

)

select * from final
