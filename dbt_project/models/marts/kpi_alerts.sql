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

latest_complete as (

    -- the newest complete period of each team and KPI; judged only if it rests on enough items
    select *

    from kpi_values

    where is_complete

    qualify row_number() over (
            partition by team_id, kpi, period_grain
            order by period_start desc
        ) = 1

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
            or starts_with(latest_complete.kpi, rules.rule_kpi_prefix)

    where latest_complete.is_judged

),

baseline_periods as (

    -- the rule's N judged complete periods just before the one judged
    select
        candidates.rule,
        candidates.team_id,
        candidates.kpi,
        judged_history.value,
        judged_history.sample_size

    from candidates

    inner join judged_history
        on
            candidates.team_id = judged_history.team_id
            and candidates.kpi = judged_history.kpi
            and candidates.period_grain = judged_history.period_grain
            and candidates.period_start > judged_history.period_start

    qualify row_number() over (
            partition by candidates.rule, candidates.team_id, candidates.kpi
            order by judged_history.period_start desc
        ) <= candidates.required_periods

),

baselines as (

    select
        rule,
        team_id,
        kpi,
        median(value) as baseline,
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
            when 'rise_pct' then baseline > 0 and round((value - baseline) / baseline, 9) > threshold
            when 'fall_pct' then baseline > 0 and round((baseline - value) / baseline, 9) > threshold
            when 'rise_points' then round(value - baseline, 9) > threshold
            when 'fall_points' then round(baseline - value, 9) > threshold
            when 'below' then round(value, 9) < threshold
            when 'above' then round(value, 9) > threshold
        end

),

final as (

    select
        {{ dbt.hash(
            "rule || '|' || team_id || '|' || kpi || '|' || period_grain || '|' || cast(period_start as varchar)"
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
