{#
    Periods and roll-ups shared by every periodic mart: one rule each.
#}

{#
    is_complete of a period that starts at period_start and lasts `periods`
    × datepart (week, month, day): true once the period has ended on the
    run's as-of date (macro today()), false for the period under way.
#}
{% macro period_is_complete(period_start, datepart, periods=1) -%}
    ({{ compact(dbt.dateadd(datepart, periods, period_start)) }} <= {{ today() }})
{%- endmacro %}

{# The team_id of the organisation roll-up rows. #}
{% macro organisation_team_id() -%}
    '__all__'
{%- endmacro %}

{#
    The rows of a CTE with a team_id, each once for its team and once more for
    the organisation (team_id '__all__'), so that every aggregate over it
    gives both the teams and the pooled organisation (percentiles over all
    items, never averaged). Rows without a team count for neither. `columns`
    lists the other columns the roll-up keeps (team_id comes first): spelt
    out, because `select * replace` is DuckDB's alone.
#}
{% macro with_organisation_rows(cte, columns) -%}
    select team_id, {{ columns | join(', ') }} from {{ cte }} where team_id is not null
    union all
    select {{ organisation_team_id() }} as team_id, {{ columns | join(', ') }} from {{ cte }} where team_id is not null
{%- endmacro %}

{# Every team_id of a teams CTE, plus the organisation's. #}
{% macro team_ids_with_organisation(teams_cte) -%}
    select team_id from {{ teams_cte }}
    union all
    select {{ organisation_team_id() }} as team_id
{%- endmacro %}
