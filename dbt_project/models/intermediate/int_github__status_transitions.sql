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
*/
with

issues as (

    select * from {{ ref('stg_github__issues') }}

),

issue_events as (

    select * from {{ ref('stg_github__issue_events') }}

),

open_issues as (

    select
        issue_id,
        repository,
        issue_number,
        state,
        created_at,
        closed_at

    from issues

    where not is_pull_request

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

last_segments as (

    select
        open_issues.issue_id,
        open_issues.state,
        open_issues.closed_at,
        segments.close_position,
        coalesce(segments.status_before_close, 'open') as status_before_close

    from open_issues

    left join segments
        on open_issues.issue_id = segments.issue_id

    qualify row_number() over (
            partition by open_issues.issue_id order by segments.segment desc nulls last
        ) = 1

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

final as (

    select
        'github' as source,
        cast(issue_id as {{ dbt.type_string() }}) as work_item_id,
        coalesce(
            cast(event_id as {{ dbt.type_string() }}),
            'closed_at:' || cast(issue_id as {{ dbt.type_string() }})
        ) as change_id,
        changed_at,
        from_status,
        to_status,
        -- a synthetic close sorts after every event of the same instant
        coalesce(event_id, 9223372036854775807) as sort_key,
        0 as sort_subkey

    from transitions

)

select * from final
