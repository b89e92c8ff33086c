-- Every row of kpi_targets.csv names a known team (or `*`), a known KPI (a
-- tool's adoption: a known tool), a direction, a target, and an at-risk band on
-- the far side of the target for that direction. Nothing is guessed: each bad
-- row comes back with its line in the file and what is wrong with it.
{{ config(store_failures=true) }}

with

targets as (

    select * from {{ ref('kpi_targets') }}

),

teams as (

    select * from {{ ref('teams') }}

),

tools as (

    select * from {{ ref('tools') }}

),

numbered as (

    -- line 1 is the header; seeds load in file order
    select
        *,
        {{ row_number_in_load_order() }} + 1 as line

    from targets

),

problems as (

    select
        line,
        'unknown team ' || coalesce('''' || scope || '''', 'null') || ' (a team_id of teams.csv, * or __all__)' as problem
    from numbered
    where
        scope is null
        or (scope not in ('*', {{ organisation_team_id() }}) and scope not in (select team_id from teams))
    union all
    select
        line,
        'unknown KPI ' || coalesce('''' || kpi || '''', 'null')
        || ' (one of {{ kpi_names() | join(", ") }}, adoption_rate:<tool_id>)' as problem
    from numbered
    where
        kpi is null
        or (
            kpi not in (
                '{{ kpi_names() | join("', '") }}'
            )
            and not {{ text_starts_with('kpi', "'adoption_rate:'") }}
        )
    union all
    select
        line,
        'unknown tool ''' || substr(kpi, 15) || ''' in ' || kpi || ' (a tool_id of tools.csv)' as problem
    from numbered
    where
        {{ text_starts_with('kpi', "'adoption_rate:'") }}
        and substr(kpi, 15) not in (select tool_id from tools)
    union all
    select
        line,
        'direction ' || coalesce('''' || direction || '''', 'null')
        || ' is neither higher_is_better nor lower_is_better' as problem
    from numbered
    where direction is null or direction not in ('higher_is_better', 'lower_is_better')
    union all
    select
        line,
        'target and at_risk_band must both be numbers' as problem
    from numbered
    where target is null or at_risk_band is null
    union all
    select
        line,
        'at_risk_band ' || at_risk_band || ' contradicts ' || direction || ': it must be '
        || case when direction = 'higher_is_better' then 'at most' else 'at least' end
        || ' the target ' || target as problem
    from numbered
    where
        (direction = 'higher_is_better' and at_risk_band > target)
        or (direction = 'lower_is_better' and at_risk_band < target)
    union all
    select
        line,
        'a second row for scope ' || scope || ' and KPI ' || kpi as problem
    from (
        select
            line,
            scope,
            kpi,
            row_number() over (partition by scope, kpi order by line) as row_rank
        from numbered
    ) as ranked
    where row_rank > 1

),

final as (

    select
        'kpi_targets.csv line ' || problems.line || ' (' || coalesce(numbered.scope, '') || ','
        || coalesce(numbered.kpi, '') || '): ' || problems.problem as failure,
        problems.line

    from problems

    inner join numbered
        on problems.line = numbered.line

)

select * from final
