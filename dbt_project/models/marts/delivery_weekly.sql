{%- set rollup_columns = [
    'source', 'work_item_id', 'created_at', 'resolved_at', 'is_canceled',
    'lead_time_hours', 'cycle_time_hours', 'is_on_time',
] %}
with

work_items as (

    select * from {{ ref('fct_work_items') }}

),

status_changes as (

    select * from {{ ref('fct_status_changes') }}

),

status_periods as (

    select * from {{ ref('int_work_item_status_periods') }}

),

teams as (

    select * from {{ ref('dim_teams') }}

),

team_items as (

    -- each item for its team and again for the organisation roll-up
    {{ with_organisation_rows('work_items', rollup_columns) }}

),

activity as (

    select created_at as happened_at from work_items
    union all
    select changed_at as happened_at from status_changes

),

bounds as (

    select
        min({{ week_start(utc_date('happened_at')) }}) as first_week,
        max({{ week_start(utc_date('happened_at')) }}) as last_week

    from activity

),

weeks as (

    select {{ date_series('first_week', 'last_week', '7 day') }} as week_start

    from bounds

),

team_weeks as (

    select
        team_ids.team_id,
        weeks.week_start,
        {{ utc_midnight('weeks.week_start') }} as week_start_at,
        {{ utc_midnight(dbt.dateadd('day', 7, 'weeks.week_start')) }} as week_end_at

    from ({{ team_ids_with_organisation('teams') }}) as team_ids

    cross join weeks

),

created as (

    select
        team_id,
        {{ week_start(utc_date('created_at')) }} as week_start,
        count(*) as created_items

    from team_items

    group by 1, 2

),

resolved as (

    select
        team_id,
        {{ week_start(utc_date('resolved_at')) }} as week_start,
        count(case when not is_canceled then 1 end) as throughput,
        count(case when is_canceled then 1 end) as canceled_items,
        {{ percentile('lead_time_hours', 0.5) }} as lead_time_p50_hours,
        {{ percentile('lead_time_hours', 0.85) }} as lead_time_p85_hours,
        {{ percentile('cycle_time_hours', 0.5) }} as cycle_time_p50_hours,
        {{ percentile('cycle_time_hours', 0.85) }} as cycle_time_p85_hours,
        count(case when is_on_time is not null then 1 end) as due_items,
        count(case when is_on_time then 1 end) as on_time_items

    from team_items

    where resolved_at is not null

    group by 1, 2

),

wip as (

    select
        team_weeks.team_id,
        team_weeks.week_start,
        count(distinct team_items.source || ':' || team_items.work_item_id) as wip_end

    from team_weeks

    inner join team_items
        on team_weeks.team_id = team_items.team_id

    inner join status_periods
        on
            team_items.source = status_periods.source
            and team_items.work_item_id = status_periods.work_item_id

    where
        status_periods.status_category = 'in_progress'
        and status_periods.period_start < team_weeks.week_end_at
        and (
            status_periods.period_end is null
            or status_periods.period_end >= team_weeks.week_end_at
        )

    group by 1, 2

),

final as (

    select
        team_weeks.team_id,
        team_weeks.week_start,
        coalesce(created.created_items, 0) as created_items,
        coalesce(resolved.throughput, 0) as throughput,
        coalesce(resolved.canceled_items, 0) as canceled_items,
        coalesce(wip.wip_end, 0) as wip_end,
        resolved.lead_time_p50_hours,
        resolved.lead_time_p85_hours,
        resolved.cycle_time_p50_hours,
        resolved.cycle_time_p85_hours,
        coalesce(resolved.due_items, 0) as due_items,
        coalesce(resolved.on_time_items, 0) as on_time_items,
        cast(resolved.on_time_items as {{ type_double() }})
        / nullif(resolved.due_items, 0) as on_time_rate,
        {{ period_is_complete('team_weeks.week_start', 'week') }} as is_complete

    from team_weeks

    left join created
        on
            team_weeks.team_id = created.team_id
            and team_weeks.week_start = created.week_start

    left join resolved
        on
            team_weeks.team_id = resolved.team_id
            and team_weeks.week_start = resolved.week_start

    left join wip
        on
            team_weeks.team_id = wip.team_id
            and team_weeks.week_start = wip.week_start

)

select * from final
