{#- The rules are var kpi_alert_rules (dbt_project.yml documents them). -#}
{%- set rules = var('kpi_alert_rules') -%}
{%- set kinds = ['rise_pct', 'fall_pct', 'rise_points', 'fall_points', 'below', 'above'] -%}
{%- for rule in rules if rule.kind not in kinds or (rule.get('kpi') is none) == (rule.get('kpi_prefix') is none) -%}
    {{ exceptions.raise_compiler_error(
        "kpi_alert_rules: rule " ~ rule.rule ~ " needs a kind among " ~ kinds | join(", ")
        ~ " and exactly one of kpi or kpi_prefix"
    ) }}
{%- endfor %}
with

kpi_values as (

    select * from {{ ref('int_kpi_values') }}

),

rules as (

    select
        rule_rows.rule,
        rule_rows.rule_kpi,
        rule_rows.rule_kpi_prefix,
        rule_rows.rule_kind,
        rule_rows.threshold,
        rule_rows.baseline_periods

    from (
        values
        {%- for rule in rules %}
            (
                '{{ rule.rule }}',
                {{ "'" ~ rule.kpi ~ "'" if rule.get('kpi') else 'null' }},
                {{ "'" ~ rule.kpi_prefix ~ "'" if rule.get('kpi_prefix') else 'null' }},
                '{{ rule.kind }}',
                cast({{ rule.threshold }} as {{ type_double() }}),
                {{ rule.get('baseline_periods', 0) | int }}
            ){{ "," if not loop.last }}
        {%- endfor %}
    ) as rule_rows (rule, rule_kpi, rule_kpi_prefix, rule_kind, threshold, baseline_periods)

),

ranked_complete as (

    -- the newest complete period of each team and KPI; judged only if it rests on enough items
    select
        *,
        row_number() over (
            partition by team_id, kpi, period_grain
            order by period_start desc
        ) as row_rank

    from kpi_values

    where is_complete

),

latest_complete as (

    select
        {{ kpi_value_columns() | join(', ') }}

    from ranked_complete

    where row_rank = 1

),

judged_history as (

    select *

    from kpi_values

    where
        is_complete
        and is_judged

),

candidates as (

    -- never an earlier period instead of a latest one with too few items
    select
        rules.rule,
        rules.rule_kind,
        rules.threshold,
        rules.baseline_periods as required_periods,
        latest_complete.team_id,
        latest_complete.kpi,
        latest_complete.period_grain,
        latest_complete.period_start,
        latest_complete.period_end,
        latest_complete.period_label,
        latest_complete.value,
        latest_complete.sample_size

    from latest_complete

    inner join rules
        on
            latest_complete.kpi = rules.rule_kpi
            or {{ text_starts_with('latest_complete.kpi', 'rules.rule_kpi_prefix') }}

    where latest_complete.is_judged

),

ranked_history as (

    -- the rule's N judged complete periods just before the one judged
    select
        candidates.rule,
        candidates.team_id,
        candidates.kpi,
        candidates.required_periods,
        judged_history.value,
        judged_history.sample_size,
        row_number() over (
            partition by candidates.rule, candidates.team_id, candidates.kpi
            order by judged_history.period_start desc
        ) as row_rank

    from candidates

    inner join judged_history
        on
            candidates.team_id = judged_history.team_id
            and candidates.kpi = judged_history.kpi
            and candidates.period_grain = judged_history.period_grain
            and candidates.period_start > judged_history.period_start

),

baseline_periods as (

    select
        rule,
        team_id,
        kpi,
        value,
        sample_size

    from ranked_history

    where row_rank <= required_periods

),

baselines as (

    select
        rule,
        team_id,
        kpi,
        {{ percentile('value', 0.5) }} as baseline,
        count(*) as baseline_periods,
        sum(sample_size) as baseline_sample_size

    from baseline_periods

    group by rule, team_id, kpi

),

judged as (

    select
        candidates.*,
        baselines.baseline,
        coalesce(baselines.baseline_periods, 0) as baseline_periods,
        baselines.baseline_sample_size

    from candidates

    left join baselines
        on
            candidates.rule = baselines.rule
            and candidates.team_id = baselines.team_id
            and candidates.kpi = baselines.kpi

),

fired as (

    -- rounded to 9 places, so a value exactly at the threshold does not fire on float noise
    select *

    from judged

    where
        baseline_periods = required_periods
        and case rule_kind
            when 'rise_pct' then baseline > 0 and {{ round_to('(value - baseline) / baseline', 9) }} > threshold
            when 'fall_pct' then baseline > 0 and {{ round_to('(baseline - value) / baseline', 9) }} > threshold
            when 'rise_points' then {{ round_to('value - baseline', 9) }} > threshold
            when 'fall_points' then {{ round_to('baseline - value', 9) }} > threshold
            when 'below' then {{ round_to('value', 9) }} < threshold
            when 'above' then {{ round_to('value', 9) }} > threshold
        end

),

final as (

    select
        {{ dbt.hash(
            "rule || '|' || team_id || '|' || kpi || '|' || period_grain || '|' || cast(period_start as " ~ dbt.type_string() ~ ")"
        ) }} as alert_id,
        team_id,
        kpi,
        period_start,
        period_grain,
        period_end,
        period_label,
        value,
        baseline,
        value - baseline as change,
        rule,
        rule_kind,
        threshold,
        sample_size,
        cast(baseline_periods as integer) as baseline_periods,
        cast(baseline_sample_size as bigint) as baseline_sample_size,
        -- the moment the judged period closed: the same alert keeps the same time, run after run
        {{ utc_midnight('period_end') }} as raised_at

    from fired

)

select * from final
