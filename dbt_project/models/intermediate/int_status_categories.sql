/*
    grain: one raw status as observed in one tracker × project × item type

    Every raw status that appears as a current status or in a status history
    gets exactly one canonical category here, and both the current status and
    the history read it from here, so the two never disagree:
      1. the status_mapping seed, most specific rule first (exact project beats
         '*', then exact issue type beats '*');
      2. else the tracker's own default (Jira statusCategory.key, Linear
         state.type, GitHub's fixed open/started/closed meaning).
    A status neither maps keeps a null category and fails the singular test
    assert_every_status_is_mapped: it is never guessed.
*/
with

work_items as (

    select * from {{ ref('int_work_items') }}

),

transitions as (

    select * from {{ ref('int_status_transitions') }}

),

jira_statuses as (

    select * from {{ ref('stg_jira__statuses') }}

),

linear_states as (

    select * from {{ ref('int_linear__states') }}

),

status_mapping as (

    select * from {{ ref('status_mapping') }}

),

observed as (

    select
        source,
        container as project,
        item_type as issue_type,
        current_status as raw_status

    from work_items

    union

    select
        work_items.source,
        work_items.container as project,
        work_items.item_type as issue_type,
        transitions.from_status as raw_status

    from transitions

    inner join work_items
        on
            transitions.source = work_items.source
            and transitions.work_item_id = work_items.work_item_id

    union

    select
        work_items.source,
        work_items.container as project,
        work_items.item_type as issue_type,
        transitions.to_status as raw_status

    from transitions

    inner join work_items
        on
            transitions.source = work_items.source
            and transitions.work_item_id = work_items.work_item_id

),

with_defaults as (

    select
        observed.source,
        observed.project,
        observed.issue_type,
        observed.raw_status,
        case observed.source
            when 'jira' then jira_statuses.status_name
            when 'linear' then coalesce(linear_states.state_name, observed.raw_status)
            else observed.raw_status
        end as raw_status_name,
        case
            when observed.source = 'jira'
                then
                    case jira_statuses.status_category_key
                        when 'new' then 'todo'
                        when 'indeterminate' then 'in_progress'
                        when 'done' then 'done'
                    end
            when observed.source = 'github'
                then
                    case observed.raw_status
                        when 'open' then 'todo'
                        when 'assigned' then 'in_progress'
                        when 'in_progress_label' then 'in_progress'
                        when 'closed' then 'done'
                    end
            when observed.source = 'linear'
                then
                    case coalesce(linear_states.state_type, observed.raw_status)
                        when 'triage' then 'todo'
                        when 'backlog' then 'todo'
                        when 'unstarted' then 'todo'
                        when 'started' then 'in_progress'
                        when 'completed' then 'done'
                        when 'canceled' then 'done'
                    end
        end as default_category

    from observed

    left join jira_statuses
        on
            observed.source = 'jira'
            and observed.raw_status = jira_statuses.status_id

    left join linear_states
        on
            observed.source = 'linear'
            and observed.raw_status = linear_states.state_id

    where observed.raw_status is not null

),

matching_rules as (

    select
        with_defaults.source,
        with_defaults.project,
        with_defaults.issue_type,
        with_defaults.raw_status,
        lower(trim(status_mapping.status_category)) as mapped_category,
        (case when trim(status_mapping.project) = '*' then 0 else 2 end)
        + (case when trim(status_mapping.issue_type) = '*' then 0 else 1 end) as specificity

    from with_defaults

    inner join status_mapping
        on
            with_defaults.source = lower(trim(status_mapping.source))
            and lower(with_defaults.raw_status) = lower(trim(status_mapping.raw_status))
            and (
                trim(status_mapping.project) = '*'
                or lower(with_defaults.project) = lower(trim(status_mapping.project))
            )
            and (
                trim(status_mapping.issue_type) = '*'
                or lower(with_defaults.issue_type) = lower(trim(status_mapping.issue_type))
            )

),

ranked_rules as (

    select
        source,
        project,
        issue_type,
        raw_status,
        mapped_category,
        row_number() over (
            partition by source, project, issue_type, raw_status
            order by specificity desc, mapped_category asc
        ) as row_rank

    from matching_rules

),

best_rules as (

    select
        source,
        project,
        issue_type,
        raw_status,
        mapped_category

    from ranked_rules

    where row_rank = 1

),

final as (

    select
        with_defaults.source,
        with_defaults.project,
        with_defaults.issue_type,
        with_defaults.raw_status,
        with_defaults.raw_status_name,
        with_defaults.default_category,
        best_rules.mapped_category,
        coalesce(best_rules.mapped_category, with_defaults.default_category) as status_category,
        case
            when best_rules.mapped_category is not null then 'status_mapping'
            when with_defaults.default_category is not null then 'tracker_default'
        end as category_rule

    from with_defaults

    left join best_rules
        on
            with_defaults.source = best_rules.source
            and with_defaults.project = best_rules.project
            and with_defaults.issue_type = best_rules.issue_type
            and with_defaults.raw_status = best_rules.raw_status

)

select * from final
