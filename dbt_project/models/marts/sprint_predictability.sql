with

sprints as (

    select * from {{ ref('int_jira__sprints') }}

),

memberships as (

    select * from {{ ref('int_jira__sprint_memberships') }}

),

work_items as (

    select * from {{ ref('fct_work_items') }}

),

status_periods as (

    select * from {{ ref('int_work_item_status_periods') }}

),

started_sprints as (

    -- a sprint is measured at its completion; a running one at its planned end, or now
    select
        sprint_id,
        sprint_name,
        board_id,
        sprint_state,
        started_at,
        planned_end_at,
        completed_at,
        sprint_state = 'closed' and completed_at is not null as is_closed,
        coalesce(
            completed_at,
            least(coalesce(planned_end_at, {{ as_of_timestamp() }}), {{ as_of_timestamp() }})
        ) as measured_at

    from sprints

    where
        sprint_state in ('active', 'closed')
        and started_at is not null

),

item_spells as (

    -- sub-tasks count with their parent, as in Jira's sprint report
    select
        started_sprints.sprint_id,
        memberships.issue_id,
        memberships.joined_at <= started_sprints.started_at
        and (memberships.left_at is null or memberships.left_at > started_sprints.started_at)
            as holds_at_start,
        memberships.joined_at > started_sprints.started_at
        and memberships.joined_at <= started_sprints.measured_at
            as joins_during_sprint,
        memberships.joined_at <= started_sprints.measured_at
        and (memberships.left_at is null or memberships.left_at >= started_sprints.measured_at)
            as holds_at_end

    from started_sprints

    inner join memberships
        on started_sprints.sprint_id = memberships.sprint_id

    where not memberships.is_subtask

),

sprint_items as (

    select
        sprint_id,
        issue_id,
        {{ dbt.bool_or('holds_at_start') }} as is_committed,
        {{ dbt.bool_or('joins_during_sprint') }} as joined_during_sprint,
        {{ dbt.bool_or('holds_at_end') }} as is_in_sprint_at_end

    from item_spells

    group by sprint_id, issue_id

),

scoped_items as (

    -- committed = in the sprint when it started; scope added = joined after the start
    select
        sprint_items.sprint_id,
        sprint_items.issue_id,
        work_items.team_id,
        work_items.container,
        work_items.is_canceled,
        work_items.resolved_at,
        sprint_items.is_committed,
        not sprint_items.is_committed and sprint_items.joined_during_sprint as is_scope_added,
        sprint_items.is_in_sprint_at_end

    from sprint_items

    -- deleted issues are not work items any more
    inner join work_items
        on
            work_items.source = 'jira'
            and sprint_items.issue_id = work_items.work_item_id

    where sprint_items.is_committed or sprint_items.joined_during_sprint

),

end_statuses as (

    -- each item's status category at the moment the sprint is measured
    select
        scoped_items.sprint_id,
        scoped_items.issue_id,
        status_periods.status_category

    from scoped_items

    inner join started_sprints
        on scoped_items.sprint_id = started_sprints.sprint_id

    inner join status_periods
        on
            status_periods.source = 'jira'
            and scoped_items.issue_id = status_periods.work_item_id
            and started_sprints.measured_at >= status_periods.period_start
            and (status_periods.period_end is null or started_sprints.measured_at < status_periods.period_end)

),

judged_items as (

    select
        scoped_items.sprint_id,
        scoped_items.issue_id,
        scoped_items.team_id,
        scoped_items.container,
        scoped_items.is_committed,
        scoped_items.is_scope_added,
        scoped_items.is_in_sprint_at_end,
        -- canceled (won't do) by the end: done then, resolved as canceled since
        coalesce(
            end_statuses.status_category = 'done'
            and scoped_items.is_canceled
            and scoped_items.resolved_at <= started_sprints.measured_at,
            false
        ) as is_canceled_at_end,
        coalesce(end_statuses.status_category = 'done', false) as is_done_at_end

    from scoped_items

    inner join started_sprints
        on scoped_items.sprint_id = started_sprints.sprint_id

    left join end_statuses
        on
            scoped_items.sprint_id = end_statuses.sprint_id
            and scoped_items.issue_id = end_statuses.issue_id

),

outcomes as (

    select
        *,
        is_in_sprint_at_end and is_done_at_end and not is_canceled_at_end as is_completed

    from judged_items

),

ranked_sprint_teams as (

    -- the team (and project) most of the sprint's items count for
    select
        sprint_id,
        team_id,
        row_number() over (partition by sprint_id order by count(*) desc, team_id) as row_rank

    from outcomes

    where team_id is not null

    group by sprint_id, team_id

),

sprint_teams as (

    select
        sprint_id,
        team_id

    from ranked_sprint_teams

    where row_rank = 1

),

ranked_sprint_projects as (

    select
        sprint_id,
        container as project_key,
        row_number() over (partition by sprint_id order by count(*) desc, container) as row_rank

    from outcomes

    group by sprint_id, container

),

sprint_projects as (

    select
        sprint_id,
        project_key

    from ranked_sprint_projects

    where row_rank = 1

),

counts as (

    select
        sprint_id,
        count(case when is_committed then 1 end) as committed_items,
        count(case when is_committed and is_completed then 1 end) as committed_completed_items,
        count(case when is_scope_added then 1 end) as scope_added_items,
        count(case when is_scope_added and is_completed then 1 end) as scope_added_completed_items,
        count(case when not is_in_sprint_at_end then 1 end) as removed_items,
        count(case when is_completed then 1 end) as completed_items,
        count(case when is_in_sprint_at_end and is_canceled_at_end then 1 end) as canceled_items,
        count(case when is_in_sprint_at_end and not is_done_at_end then 1 end) as unfinished_items

    from outcomes

    group by sprint_id

),

final as (

    select
        started_sprints.sprint_id,
        started_sprints.sprint_name,
        started_sprints.board_id,
        sprint_projects.project_key,
        sprint_teams.team_id,
        started_sprints.sprint_state,
        started_sprints.is_closed,
        started_sprints.started_at,
        started_sprints.planned_end_at,
        started_sprints.completed_at,
        started_sprints.measured_at,
        counts.committed_items,
        counts.committed_completed_items,
        counts.scope_added_items,
        counts.scope_added_completed_items,
        counts.removed_items,
        counts.completed_items,
        counts.canceled_items,
        counts.unfinished_items,
        cast(counts.committed_completed_items as {{ type_double() }})
        / nullif(counts.committed_items, 0) as planning_accuracy,
        cast(counts.scope_added_items as {{ type_double() }})
        / nullif(counts.committed_items, 0) as scope_added_rate

    from started_sprints

    inner join counts
        on started_sprints.sprint_id = counts.sprint_id

    left join sprint_teams
        on started_sprints.sprint_id = sprint_teams.sprint_id

    left join sprint_projects
        on started_sprints.sprint_id = sprint_projects.sprint_id

)

select * from final
