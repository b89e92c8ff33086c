-- The baseline: delivery_weekly and adoption_weekly straight from the landed inputs,
-- in one DuckDB script, as a DuckDB user would write it by hand.
--
-- Inputs (DuckDB variables set by benchmarks/baseline.py):
--   jira_search_files     Jira search pages (POST /rest/api/3/search/jql bodies), oldest recording first
--   jira_changelog_files  GET /rest/api/3/issue/{key}/changelog bodies
--   jira_status_file      GET /rest/api/3/status body
--   usage_files           usage event logs (JSONL, gzip allowed)
--   seed_teams, seed_roster, seed_ownership, seed_tools, seed_status_mapping   the seed CSVs
--
-- It follows the definitions of the dbt models (dbt_project/models) and the
-- loader's acceptance rules, not their code: typed JSON reads instead of JSON
-- paths, one pass per fact, and WIP as a range over week ends instead of a
-- join of every team-week with every status period.

set TimeZone = 'UTC';

-- Jira resolutions that mean "canceled" (dbt var jira_canceled_resolutions).
set variable canceled_resolutions = ['won''t do', 'won''t fix', 'duplicate', 'cannot reproduce', 'declined'];

-- ---------------------------------------------------------------- seeds

create temp table teams as
select team_id, team_name, time_zone
from read_csv(getvariable('seed_teams'), header = true, all_varchar = true);

create temp table roster as
select
    lower(trim(email)) as email,
    team_id,
    cast(nullif(trim(valid_from), '') as date) as valid_from,
    cast(nullif(trim(valid_to), '') as date) as valid_to,
    nullif(trim(jira_account_id), '') as jira_account_id
from read_csv(getvariable('seed_roster'), header = true, all_varchar = true);

create temp table owners as
select lower(trim(source)) as source, lower(trim(container)) as container, min(team_id) as team_id
from read_csv(getvariable('seed_ownership'), header = true, all_varchar = true)
group by all;

create temp table tools as
select tool_id, tool_name, aliases, cast(nullif(trim(rollout_date), '') as date) as rollout_date
from read_csv(getvariable('seed_tools'), header = true, all_varchar = true);

create temp table status_rules as
select
    lower(trim(source)) as source,
    trim(project) as project,
    trim(issue_type) as issue_type,
    lower(trim(raw_status)) as raw_status,
    lower(trim(status_category)) as category,
    (case when trim(project) = '*' then 0 else 2 end)
    + (case when trim(issue_type) = '*' then 0 else 1 end) as specificity
from read_csv(getvariable('seed_status_mapping'), header = true, all_varchar = true);

-- ---------------------------------------------------------------- Jira

-- Each page parsed once into typed structs. (read_json_objects + from_json: read_json
-- with the same nested columns is an order of magnitude slower on 500 kB pages.)
create temp table page_issues as
select filename, unnest(from_json(json, '{"issues": [{
    "id": "VARCHAR",
    "key": "VARCHAR",
    "changelog": {
        "total": "BIGINT",
        "histories": [{
            "id": "VARCHAR", "created": "VARCHAR",
            "items": [{"field": "VARCHAR", "fieldId": "VARCHAR", "from": "VARCHAR", "to": "VARCHAR"}]
        }]
    },
    "fields": {
        "issuetype": {"name": "VARCHAR"},
        "project": {"key": "VARCHAR"},
        "status": {"id": "VARCHAR"},
        "resolution": {"name": "VARCHAR"},
        "resolutiondate": "VARCHAR",
        "created": "VARCHAR",
        "updated": "VARCHAR",
        "duedate": "VARCHAR",
        "assignee": {"accountId": "VARCHAR", "emailAddress": "VARCHAR"}
    }
}]}').issues) as issue
from read_json_objects(getvariable('jira_search_files'), filename = true, maximum_object_size = 268435456);

-- The latest version of each issue (a later recording re-sends changed issues).
create temp table issues as
select
    issue.id as issue_id,
    issue.fields.project.key as container,
    coalesce(issue.fields.issuetype.name, 'unknown') as item_type,
    lower(issue.fields.assignee.emailAddress) as assignee_email,
    issue.fields.assignee.accountId as assignee_account_id,
    strptime(issue.fields.created, ['%Y-%m-%dT%H:%M:%S.%g%z', '%Y-%m-%dT%H:%M:%S%z']) as created_at,
    strptime(issue.fields.resolutiondate, ['%Y-%m-%dT%H:%M:%S.%g%z', '%Y-%m-%dT%H:%M:%S%z']) as source_resolved_at,
    cast(issue.fields.duedate as date) as due_date,
    issue.fields.status.id as current_status,
    coalesce(
        list_contains(getvariable('canceled_resolutions'), lower(issue.fields.resolution.name)), false
    ) as has_canceled_resolution
from page_issues
qualify row_number() over (
    partition by issue.id
    order by strptime(issue.fields.updated, ['%Y-%m-%dT%H:%M:%S.%g%z', '%Y-%m-%dT%H:%M:%S%z']) desc, filename desc
) = 1;

-- Every history once: embedded ones, plus the changelog pages of truncated issues.
create temp table histories as
with embedded as (
    select issue.id as issue_id, unnest(issue.changelog.histories) as h
    from page_issues
),
paged as (
    select issues.issue_id, unnest(page."values") as h
    from (
        select
            json ->> '$.self' as self,
            from_json(json, '{"values": [{
                "id": "VARCHAR", "created": "VARCHAR",
                "items": [{"field": "VARCHAR", "fieldId": "VARCHAR", "from": "VARCHAR", "to": "VARCHAR"}]
            }]}')."values" as "values"
        from read_json_objects(getvariable('jira_changelog_files'), maximum_object_size = 268435456)
    ) as page
    inner join (
        select distinct issue.id as issue_id, issue.key as issue_key from page_issues
    ) as issues
        on regexp_extract(page.self, '/issue/([^/]+)/changelog', 1) = issues.issue_key
),
every_history as (
    select * from embedded
    union all
    select * from paged
)
select issue_id, h.id as history_id, h.created as created, h.items as items
from every_history
qualify row_number() over (partition by h.id order by issue_id) = 1;

drop table page_issues;

-- Status transitions, ordered by time, then id (history id, item position).
create temp table transitions as
with items as (
    select
        histories.issue_id,
        histories.history_id,
        strptime(histories.created, ['%Y-%m-%dT%H:%M:%S.%g%z', '%Y-%m-%dT%H:%M:%S%z']) as changed_at,
        unnest(histories.items) as item,
        unnest(generate_series(1, len(histories.items))) as item_index
    from histories
    inner join issues on histories.issue_id = issues.issue_id
)
select
    issue_id,
    changed_at,
    item."from" as from_status,
    item."to" as to_status,
    row_number() over (
        partition by issue_id
        order by changed_at, try_cast(history_id as bigint) nulls last, item_index, history_id || ':' || item_index
    ) as sequence_number
from items
where coalesce(item.fieldId, item.field) = 'status';

drop table histories;

-- One category per (project, issue type, raw status): the most specific mapping rule,
-- else the status catalogue's category key.
create temp table categories as
with observed as (
    select container, item_type, current_status as raw_status from issues
    union
    select issues.container, issues.item_type, t.from_status
    from transitions as t inner join issues on t.issue_id = issues.issue_id
    union
    select issues.container, issues.item_type, t.to_status
    from transitions as t inner join issues on t.issue_id = issues.issue_id
),
catalogue as (
    select
        cast(s.id as varchar) as status_id,
        case s.statusCategory.key
            when 'new' then 'todo' when 'indeterminate' then 'in_progress' when 'done' then 'done'
        end as default_category
    from read_json(
        getvariable('jira_status_file'),
        format = 'array',
        columns = {id: 'VARCHAR', statusCategory: 'STRUCT("key" VARCHAR)'}
    ) as s
),
ruled as (
    select observed.container, observed.item_type, observed.raw_status, r.category
    from observed
    inner join status_rules as r
        on
            r.source = 'jira'
            and lower(observed.raw_status) = r.raw_status
            and (r.project = '*' or lower(observed.container) = lower(r.project))
            and (r.issue_type = '*' or lower(observed.item_type) = lower(r.issue_type))
    qualify row_number() over (
        partition by observed.container, observed.item_type, observed.raw_status
        order by r.specificity desc, r.category
    ) = 1
)
select
    observed.container,
    observed.item_type,
    observed.raw_status,
    coalesce(ruled.category, catalogue.default_category) as category
from observed
left join catalogue on observed.raw_status = catalogue.status_id
left join ruled
    on
        observed.container = ruled.container
        and observed.item_type = ruled.item_type
        and observed.raw_status = ruled.raw_status
where observed.raw_status is not null;

create temp table changes as
select
    t.issue_id,
    t.sequence_number,
    t.changed_at,
    f.category as from_category,
    c.category as to_category
from transitions as t
inner join issues as i on t.issue_id = i.issue_id
left join categories as f
    on i.container = f.container and i.item_type = f.item_type and t.from_status = f.raw_status
left join categories as c
    on i.container = c.container and i.item_type = c.item_type and t.to_status = c.raw_status;

drop table transitions;

-- One row per work item: timings, team and on-time flag.
create temp table work_items as
with current_items as (
    select issues.*, categories.category as current_category
    from issues
    left join categories
        on
            issues.container = categories.container
            and issues.item_type = categories.item_type
            and issues.current_status = categories.raw_status
),
summary as (
    select
        issue_id,
        min(changed_at) filter (where to_category = 'in_progress' and from_category <> 'in_progress')
            as first_in_progress_at,
        max(changed_at) filter (where to_category = 'done' and from_category <> 'done') as last_done_at
    from changes
    group by issue_id
),
first_changes as (
    select issue_id, from_category from changes where sequence_number = 1
),
timed as (
    select
        current_items.*,
        coalesce(current_category = 'done' and has_canceled_resolution, false) as is_canceled,
        case when current_category = 'done' then coalesce(last_done_at, source_resolved_at) end as resolved_at,
        case
            when
                case when first_changes.issue_id is null then current_category else first_changes.from_category end
                = 'in_progress'
                then created_at
            else first_in_progress_at
        end as started_at
    from current_items
    left join summary on current_items.issue_id = summary.issue_id
    left join first_changes on current_items.issue_id = first_changes.issue_id
),
accounts as (
    select jira_account_id, min(email) as email
    from roster
    where jira_account_id is not null
    group by jira_account_id
),
assigned as (
    select
        timed.*,
        coalesce(timed.assignee_email, accounts.email) as email,
        coalesce(cast(timezone('UTC', timed.resolved_at) as date), current_date) as attribution_date
    from timed
    left join accounts on timed.assignee_account_id = accounts.jira_account_id
),
assignee_teams as (
    select assigned.issue_id, roster.team_id
    from assigned
    inner join roster
        on
            assigned.email = roster.email
            and assigned.attribution_date >= roster.valid_from
            and (roster.valid_to is null or assigned.attribution_date < roster.valid_to)
    qualify row_number() over (partition by assigned.issue_id order by roster.valid_from desc, roster.team_id) = 1
)
select
    assigned.issue_id,
    coalesce(owners.team_id, assignee_teams.team_id) as team_id,
    assigned.created_at,
    assigned.resolved_at,
    assigned.is_canceled,
    case
        when assigned.resolved_at is not null and not assigned.is_canceled
            then (epoch(assigned.resolved_at) - epoch(assigned.created_at)) / 3600.0
    end as lead_time_hours,
    case
        when assigned.resolved_at is not null and not assigned.is_canceled
            then (epoch(assigned.resolved_at) - epoch(assigned.started_at)) / 3600.0
    end as cycle_time_hours,
    assigned.due_date,
    assigned.current_category
from assigned
left join owners on owners.source = 'jira' and lower(assigned.container) = owners.container
left join assignee_teams on assigned.issue_id = assignee_teams.issue_id;

create temp table work_items_on_time as
select
    w.*,
    case
        when w.due_date is not null and w.resolved_at is not null and not w.is_canceled
            then cast(timezone(coalesce(teams.time_zone, 'UTC'), w.resolved_at) as date) <= w.due_date
    end as is_on_time
from work_items as w
left join teams on w.team_id = teams.team_id;

-- ---------------------------------------------------------------- delivery_weekly

-- Each item with a team once for it and once for the organisation ('__all__').
create temp table team_work_items as
select * from work_items_on_time where team_id is not null
union all
select * replace ('__all__' as team_id) from work_items_on_time where team_id is not null;

create or replace table delivery_weekly as
with bounds as (
    select
        min(cast(date_trunc('week', cast(timezone('UTC', t) as date)) as date)) as first_week,
        max(cast(date_trunc('week', cast(timezone('UTC', t) as date)) as date)) as last_week
    from (
        select created_at as t from work_items
        union all
        select changed_at from changes
    )
),
weeks as (
    select cast(unnest(generate_series(first_week, last_week, interval 7 day)) as date) as week_start
    from bounds
),
created as (
    select team_id, cast(date_trunc('week', cast(timezone('UTC', created_at) as date)) as date) as week_start,
        count(*) as created_items
    from team_work_items
    group by all
),
resolved as (
    select
        team_id,
        cast(date_trunc('week', cast(timezone('UTC', resolved_at) as date)) as date) as week_start,
        count(*) filter (where not is_canceled) as throughput,
        count(*) filter (where is_canceled) as canceled_items,
        quantile_cont(lead_time_hours, 0.5) as lead_time_p50_hours,
        quantile_cont(lead_time_hours, 0.85) as lead_time_p85_hours,
        quantile_cont(cycle_time_hours, 0.5) as cycle_time_p50_hours,
        quantile_cont(cycle_time_hours, 0.85) as cycle_time_p85_hours,
        count(is_on_time) as due_items,
        count(*) filter (where is_on_time) as on_time_items
    from team_work_items
    where resolved_at is not null
    group by all
),
-- In-progress spans: creation to the first change, then change to change.
spans as (
    select w.issue_id, w.team_id, w.created_at as span_start, first_change.changed_at as span_end,
        case when first_change.issue_id is null then w.current_category else first_change.from_category end
            as category
    from team_work_items as w
    left join changes as first_change
        on w.issue_id = first_change.issue_id and first_change.sequence_number = 1
    union all
    select c.issue_id, w.team_id, c.changed_at,
        lead(c.changed_at) over (partition by c.issue_id, w.team_id order by c.sequence_number),
        c.to_category
    from changes as c
    inner join team_work_items as w on c.issue_id = w.issue_id
),
-- A span counts at each week end (the next Monday 00:00 UTC) in (span_start, span_end]:
-- the weeks from the one holding span_start to the one ending on or before span_end.
wip as (
    select team_id, week_start, count(distinct issue_id) as wip_end
    from (
        select
            spans.team_id,
            spans.issue_id,
            cast(unnest(generate_series(
                cast(date_trunc('week', cast(timezone('UTC', span_start) as date)) as timestamp),
                cast(coalesce(cast(timezone('UTC', span_end) as date), bounds.last_week + 7) as timestamp)
                - interval 7 day,
                interval 7 day
            )) as date) as week_start
        from spans
        cross join bounds
        where category = 'in_progress'
    ) as candidates
    where week_start between (select first_week from bounds) and (select last_week from bounds)
    group by all
)
select
    teams.team_id,
    weeks.week_start,
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
    cast(resolved.on_time_items as double) / nullif(resolved.due_items, 0) as on_time_rate
from (select team_id from teams union all select '__all__') as teams
cross join weeks
left join created on teams.team_id = created.team_id and weeks.week_start = created.week_start
left join resolved on teams.team_id = resolved.team_id and weeks.week_start = resolved.week_start
left join wip on teams.team_id = wip.team_id and weeks.week_start = wip.week_start;

-- ---------------------------------------------------------------- adoption_weekly

-- A tool's names in logs: its aliases, its name and its id, lower-cased.
create temp table aliases as
select distinct lower(trim(alias)) as alias, tool_id
from (
    select tool_id, unnest(string_split(aliases, '|')) as alias from tools where aliases is not null
    union all
    select tool_id, tool_name from tools
    union all
    select tool_id, tool_id from tools
)
where nullif(trim(alias), '') is not null;

-- Usage events the loader accepts (all four fields, an ISO 8601 timestamp with an
-- offset), mapped to a catalogued tool. Adoption counts people per day, so an
-- event delivered twice needs no dedupe here.
create temp table uses as
with lines as (
    select
        upper(nullif(trim("timestamp"), '')) as ts,
        lower(nullif(trim(user_email), '')) as email,
        lower(nullif(trim(tool), '')) as tool,
        nullif(trim(event), '') as event
    from read_json(
        getvariable('usage_files'),
        format = 'newline_delimited',
        ignore_errors = true,
        columns = {"timestamp": 'VARCHAR', user_email: 'VARCHAR', tool: 'VARCHAR', event: 'VARCHAR'}
    )
),
valid as (
    select try_cast(ts as timestamptz) as occurred_at, email, tool
    from lines
    where
        email is not null and tool is not null and event is not null
        and regexp_full_match(ts, '\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)')
)
select distinct
    aliases.tool_id,
    valid.email,
    cast(timezone('UTC', valid.occurred_at) as date) as usage_date
from valid
inner join aliases on valid.tool = aliases.alias
where valid.occurred_at is not null;

create temp table usage_daily as
select
    uses.email,
    uses.tool_id,
    uses.usage_date,
    min(roster.team_id) as team_id
from uses
inner join roster
    on
        uses.email = roster.email
        and uses.usage_date >= roster.valid_from
        and (roster.valid_to is null or uses.usage_date < roster.valid_to)
group by all;

create or replace table adoption_weekly as
with first_uses as (
    select tool_id, min(usage_date) as first_used_on from uses group by tool_id
),
last_week as (
    select max(cast(date_trunc('week', usage_date) as date)) as last_week from usage_daily
),
tool_weeks as (
    select
        tools.tool_id,
        tools.rollout_date,
        cast(unnest(generate_series(
            cast(cast(date_trunc('week', least(tools.rollout_date, first_uses.first_used_on)) as date) as timestamp),
            cast(last_week.last_week as timestamp),
            interval 7 day
        )) as date) as week_start
    from tools
    left join first_uses on tools.tool_id = first_uses.tool_id
    cross join last_week
),
headcounts as (
    select roster.team_id, weeks.week_start, count(distinct roster.email) as headcount
    from (select distinct week_start from tool_weeks) as weeks
    inner join roster
        on
            roster.valid_from < weeks.week_start + 7
            and (roster.valid_to is null or weeks.week_start < roster.valid_to)
    group by all
),
active_users as (
    select team_id, tool_id, cast(date_trunc('week', usage_date) as date) as week_start,
        count(distinct email) as active_users
    from usage_daily
    group by all
)
select
    headcounts.team_id,
    tool_weeks.tool_id,
    tool_weeks.week_start,
    coalesce(active_users.active_users, 0) as active_users,
    headcounts.headcount,
    cast(coalesce(active_users.active_users, 0) as double) / headcounts.headcount as adoption_rate,
    coalesce(tool_weeks.week_start >= cast(date_trunc('week', tool_weeks.rollout_date) as date), true)
        as is_rolled_out
from tool_weeks
inner join headcounts on tool_weeks.week_start = headcounts.week_start
left join active_users
    on
        headcounts.team_id = active_users.team_id
        and tool_weeks.tool_id = active_users.tool_id
        and tool_weeks.week_start = active_users.week_start;
