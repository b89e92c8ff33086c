{{
    config(
        materialized='incremental',
        incremental_strategy='replace_partitions',
        unique_key='work_item_id',
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_rows_of_other_rules(github_rules_hash()) }}",
    )
}}
/*
    grain: one status change of one GitHub issue

    GitHub has only open/closed, so the history is rebuilt from issue events
    with these raw statuses (each overridable in the status_mapping seed):
      open               an open issue nobody started (default todo)
      assigned           started by its first assignment (default in_progress)
      in_progress_label  started by an in-progress label (default in_progress)
      closed             closed, whatever the reason (default done)
    Rules, in event order (time, then event id):
      - the issue starts open; the first assignment or in-progress label while
        open starts it;
      - closed closes it (repeated closes are ignored);
      - reopened opens it again: assigned if someone is assigned at that
        moment, else open; a later assignment or label starts it again;
      - an issue closed with no closed event (events outside the loaded
        window) closes at its closed_at.

    Incremental (macros/incremental.sql): each run rebuilds the whole history
    of the issues whose issue row or events were loaded since the high-water
    mark, and clears issues that are gone (deleted, or now a pull request).
*/
with

rules as (

    -- the rules the rows are computed with (macros/incremental.sql), computed once
    select {{ github_rules_hash() }} as rules_hash

),

issues as (

    select * from {{ ref('stg_github__issues') }}

),

issue_events as (

    select * from {{ ref('stg_github__issue_events') }}

),

item_loads as (

    -- the latest load of anything an issue's history is read from
    select
        issues.issue_id,
        greatest(issues.loaded_at, coalesce(max(issue_events.loaded_at), issues.loaded_at)) as loaded_at

    from issues

    left join issue_events
        on
            issues.repository = issue_events.repository
            and issues.issue_number = issue_events.issue_number

    where not issues.is_pull_request

    group by issues.issue_id, issues.loaded_at

),

changed_items as (

    select
        issue_id,
        loaded_at

    from item_loads

    where {{ loaded_since_watermark('loaded_at') }}

),

open_issues as (

    select
        issues.issue_id,
        issues.repository,
        issues.issue_number,
        issues.state,
        issues.created_at,
        issues.closed_at

    from issues

    inner join changed_items
        on issues.issue_id = changed_items.issue_id

),

relevant_events as (

    select
        open_issues.issue_id,
        issue_events.event_id,
        issue_events.event,
        issue_events.created_at,
        case
            when issue_events.event = 'assigned' then 'assigned'
            when
                issue_events.event = 'labeled'
                and lower(issue_events.label_name) in (
                    {{ lower_string_literals(var('github_in_progress_labels')) }}
                )
                then 'in_progress_label'
        end as start_kind,
        case issue_events.event
            when 'assigned' then 1
            when 'unassigned' then -1
            else 0
        end as assignee_delta

    from issue_events

    inner join open_issues
        on
            issue_events.repository = open_issues.repository
            and issue_events.issue_number = open_issues.issue_number

    where
        issue_events.event in ('assigned', 'unassigned', 'labeled', 'closed', 'reopened')

),

sequenced as (

    select
        issue_id,
        event_id,
        event,
        created_at,
        start_kind,
        row_number() over (
            partition by issue_id order by created_at, event_id
        ) as position,
        -- segment 0 runs from creation, segment n from the n-th reopen
        sum(case when event = 'reopened' then 1 else 0 end) over (
            partition by issue_id order by created_at, event_id
            rows between unbounded preceding and current row
        ) as segment,
        sum(assignee_delta) over (
            partition by issue_id order by created_at, event_id
            rows between unbounded preceding and current row
        ) as open_assignees

    from relevant_events

),

segment_bounds as (

    select
        issue_id,
        segment,
        min(case when event = 'closed' then position end) as close_position,
        max(case when event = 'reopened' then position end) as reopen_position,
        max(case when event = 'reopened' then open_assignees end) as assignees_at_reopen

    from sequenced

    group by issue_id, segment

),

segment_starts as (

    select
        segment_bounds.issue_id,
        segment_bounds.segment,
        segment_bounds.close_position,
        case
            when segment_bounds.segment > 0 and segment_bounds.assignees_at_reopen > 0
                then 'assigned'
            else 'open'
        end as opening_status

    from segment_bounds

),

first_starts as (

    select
        sequenced.issue_id,
        sequenced.segment,
        min(sequenced.position) as start_position

    from sequenced

    inner join segment_starts
        on
            sequenced.issue_id = segment_starts.issue_id
            and sequenced.segment = segment_starts.segment

    where
        sequenced.start_kind is not null
        and segment_starts.opening_status = 'open'
        and sequenced.position < coalesce(segment_starts.close_position, 9223372036854775807)

    group by sequenced.issue_id, sequenced.segment

),

segments as (

    select
        segment_starts.issue_id,
        segment_starts.segment,
        segment_starts.opening_status,
        segment_starts.close_position,
        first_starts.start_position,
        starts.start_kind,
        coalesce(starts.start_kind, segment_starts.opening_status) as status_before_close

    from segment_starts

    left join first_starts
        on
            segment_starts.issue_id = first_starts.issue_id
            and segment_starts.segment = first_starts.segment

    left join sequenced as starts
        on
            first_starts.issue_id = starts.issue_id
            and first_starts.start_position = starts.position

),

reopen_transitions as (

    select
        sequenced.issue_id,
        sequenced.event_id,
        sequenced.created_at as changed_at,
        'closed' as from_status,
        segments.opening_status as to_status

    from sequenced

    inner join segments
        on
            sequenced.issue_id = segments.issue_id
            and sequenced.segment = segments.segment

    where sequenced.event = 'reopened'

),

start_transitions as (

    select
        sequenced.issue_id,
        sequenced.event_id,
        sequenced.created_at as changed_at,
        'open' as from_status,
        sequenced.start_kind as to_status

    from sequenced

    inner join segments
        on
            sequenced.issue_id = segments.issue_id
            and sequenced.position = segments.start_position

),

close_transitions as (

    select
        sequenced.issue_id,
        sequenced.event_id,
        sequenced.created_at as changed_at,
        segments.status_before_close as from_status,
        'closed' as to_status

    from sequenced

    inner join segments
        on
            sequenced.issue_id = segments.issue_id
            and sequenced.position = segments.close_position

),

last_segments_ranked as (

    select
        open_issues.issue_id,
        open_issues.state,
        open_issues.closed_at,
        segments.close_position,
        coalesce(segments.status_before_close, 'open') as status_before_close,
        row_number() over (
            partition by open_issues.issue_id order by segments.segment desc nulls last
        ) as row_rank

    from open_issues

    left join segments
        on open_issues.issue_id = segments.issue_id

),

last_segments as (

    select
        issue_id,
        state,
        closed_at,
        close_position,
        status_before_close

    from last_segments_ranked

    where row_rank = 1

),

missing_close_transitions as (

    select
        issue_id,
        cast(null as bigint) as event_id,
        closed_at as changed_at,
        status_before_close as from_status,
        'closed' as to_status

    from last_segments

    where
        state = 'closed'
        and close_position is null
        and closed_at is not null

),

transitions as (

    select * from reopen_transitions
    union all
    select * from start_transitions
    union all
    select * from close_transitions
    union all
    select * from missing_close_transitions

),

rebuilt as (

    select
        'github' as source,
        cast(transitions.issue_id as {{ dbt.type_string() }}) as work_item_id,
        coalesce(
            cast(transitions.event_id as {{ dbt.type_string() }}),
            'closed_at:' || cast(transitions.issue_id as {{ dbt.type_string() }})
        ) as change_id,
        transitions.changed_at,
        transitions.from_status,
        transitions.to_status,
        -- a synthetic close sorts after every event of the same instant
        coalesce(transitions.event_id, 9223372036854775807) as sort_key,
        0 as sort_subkey,
        changed_items.loaded_at as _loaded_at,
        (select rules.rules_hash from rules) as _rules_hash

    from transitions

    inner join changed_items
        on transitions.issue_id = changed_items.issue_id

),

{% if is_incremental() %}

    tombstones as (

        -- clears every rebuilt issue, and issues that are gone
        select cast(issue_id as {{ dbt.type_string() }}) as work_item_id

        from changed_items

        union

        select built.work_item_id

        from {{ this }} as built

        where not exists (
            select 1

            from item_loads

            where cast(item_loads.issue_id as {{ dbt.type_string() }}) = built.work_item_id
        )

    ),

    final as (

        select * from rebuilt

        union all

        select
            'github' as source,
            work_item_id,
            cast(null as {{ dbt.type_string() }}) as change_id,
            cast(null as {{ type_timestamptz() }}) as changed_at,
            cast(null as {{ dbt.type_string() }}) as from_status,
            cast(null as {{ dbt.type_string() }}) as to_status,
            cast(null as {{ dbt.type_bigint() }}) as sort_key,
            0 as sort_subkey,
            cast(null as {{ type_timestamptz() }}) as _loaded_at,
            cast(null as {{ dbt.type_string() }}) as _rules_hash

        from tombstones

    )

{% else %}

    final as (

        select * from rebuilt

    )

{% endif %}

select * from final
