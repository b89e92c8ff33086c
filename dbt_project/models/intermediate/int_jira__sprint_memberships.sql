/*
    grain: one spell of one Jira issue in one sprint (joined_at → left_at)

    Rebuilt from the sprint field's history (int_jira__sprint_changes), in
    order of time, then history id, then item position:
      - before its first sprint change, an issue was in the sprints that change
        started from, since its creation;
      - an issue whose sprint field never changed has been in its current
        sprints since its creation (created straight into a sprint);
      - a change adds the sprints in "to" but not in "from" and removes the
        sprints in "from" but not in "to".
    A spell runs from an addition to the next removal; left_at is null while
    the issue is still in the sprint (completed sprints stay in Jira's field).
*/
with

issues as (

    select * from {{ ref('stg_jira__issues') }}

),

sprint_changes as (

    select * from {{ ref('int_jira__sprint_changes') }}

),

current_sprints as (

    select * from {{ ref('stg_jira__issue_sprints') }}

),

ordered_changes as (

    select
        sprint_changes.issue_id,
        sprint_changes.changed_at,
        sprint_changes.from_sprint_ids,
        sprint_changes.to_sprint_ids,
        issues.created_at,
        row_number() over (
            partition by sprint_changes.issue_id
            order by
                sprint_changes.changed_at,
                sprint_changes.sort_key,
                sprint_changes.sort_subkey,
                sprint_changes.change_id
        ) as change_number

    from sprint_changes

    -- histories of deleted issues stay in int_jira__sprint_changes
    inner join issues
        on sprint_changes.issue_id = issues.issue_id

),

changed_issues as (

    select distinct issue_id

    from ordered_changes

),

unchanged_issues as (

    select issues.issue_id

    from issues

    left join changed_issues
        on issues.issue_id = changed_issues.issue_id

    where changed_issues.issue_id is null

),

membership_events as (

    -- in the sprints the first change started from, since creation
    select
        issue_id,
        {{ unnest_list('from_sprint_ids') }} as sprint_id,
        created_at as changed_at,
        0 as change_number,
        true as is_member

    from ordered_changes

    where change_number = 1

    union all

    -- sprint field never changed: in the current sprints since creation
    select
        current_sprints.issue_id,
        current_sprints.sprint_id,
        issues.created_at as changed_at,
        0 as change_number,
        true as is_member

    from current_sprints

    inner join unchanged_issues
        on current_sprints.issue_id = unchanged_issues.issue_id

    inner join issues
        on current_sprints.issue_id = issues.issue_id

    union all

    select
        issue_id,
        {{ unnest_list(list_except('to_sprint_ids', 'from_sprint_ids')) }} as sprint_id,
        changed_at,
        change_number,
        true as is_member

    from ordered_changes

    union all

    select
        issue_id,
        {{ unnest_list(list_except('from_sprint_ids', 'to_sprint_ids')) }} as sprint_id,
        changed_at,
        change_number,
        false as is_member

    from ordered_changes

),

spell_starts as (

    select
        issue_id,
        sprint_id,
        changed_at,
        change_number,
        is_member,
        -- a spell starts where the issue joins a sprint it was not in
        case
            when
                is_member
                and not coalesce(
                    lag(is_member) over (partition by issue_id, sprint_id order by change_number),
                    false
                )
                then 1
            else 0
        end as starts_spell

    from membership_events

),

numbered as (

    select
        *,
        sum(starts_spell) over (
            partition by issue_id, sprint_id order by change_number
            rows between unbounded preceding and current row
        ) as spell_number

    from spell_starts

),

final as (

    select
        numbered.issue_id,
        numbered.sprint_id,
        cast(numbered.spell_number as {{ dbt.type_int() }}) as spell_number,
        min(case when numbered.is_member then numbered.changed_at end) as joined_at,
        min(case when not numbered.is_member then numbered.changed_at end) as left_at,
        issues.is_subtask

    from numbered

    inner join issues
        on numbered.issue_id = issues.issue_id

    -- removals from a sprint the issue was not known to be in start no spell
    where numbered.spell_number > 0

    group by numbered.issue_id, numbered.sprint_id, numbered.spell_number, issues.is_subtask

)

select * from final
