{#- One CTE per rule of var kpi_alert_rules (dbt_project.yml documents them). -#}
{%- set rules = var('kpi_alert_rules') -%}
with

kpi_values as (

    select * from {{ ref('int_kpi_values') }}

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

{% for rule in rules %}
{%- set periods = rule.get('baseline_periods', 0) | int -%}
{%- if rule.get('kpi_prefix') -%}
    {%- set kpi_filter = "starts_with(kpi, '" ~ rule.kpi_prefix ~ "')" -%}
{%- else -%}
    {%- set kpi_filter = "kpi = '" ~ rule.kpi ~ "'" -%}
{%- endif %}
rule_{{ loop.index }}_baselines as (

    -- the median of the {{ periods }} judged complete periods before each one
    select
        team_id,
        kpi,
        period_grain,
        period_start,
        {% if periods > 0 -%}
        median(value) over previous_periods as baseline,
        count(*) over previous_periods as baseline_periods,
        sum(sample_size) over previous_periods as baseline_sample_size
        {%- else -%}
        cast(null as {{ type_double() }}) as baseline,
        0 as baseline_periods,
        cast(null as bigint) as baseline_sample_size
        {%- endif %}

    from judged_history

    where {{ kpi_filter }}

    {% if periods > 0 -%}
    window previous_periods as (
        partition by team_id, kpi, period_grain
        order by period_start
        rows between {{ periods }} preceding and 1 preceding
    )
    {%- endif %}

),

rule_{{ loop.index }} as (

    select
        '{{ rule.rule }}' as rule,
        '{{ rule.kind }}' as rule_kind,
        cast({{ rule.threshold }} as {{ type_double() }}) as threshold,
        latest_complete.team_id,
        latest_complete.kpi,
        latest_complete.period_grain,
        latest_complete.period_start,
        latest_complete.period_end,
        latest_complete.period_label,
        latest_complete.value,
        latest_complete.sample_size,
        baselines.baseline,
        baselines.baseline_periods,
        baselines.baseline_sample_size

    from latest_complete

    inner join rule_{{ loop.index }}_baselines as baselines
        on
            latest_complete.team_id = baselines.team_id
            and latest_complete.kpi = baselines.kpi
            and latest_complete.period_grain = baselines.period_grain
            and latest_complete.period_start = baselines.period_start

    where
        latest_complete.is_judged
        and baselines.baseline_periods = {{ periods }}
        {#- Rounded to 9 places, so a value exactly at the threshold does not fire on float noise. #}
        {%- if rule.kind == 'rise_pct' %}
        and baselines.baseline > 0
        and round((latest_complete.value - baselines.baseline) / baselines.baseline, 9) > {{ rule.threshold }}
        {%- elif rule.kind == 'fall_pct' %}
        and baselines.baseline > 0
        and round((baselines.baseline - latest_complete.value) / baselines.baseline, 9) > {{ rule.threshold }}
        {%- elif rule.kind == 'rise_points' %}
        and round(latest_complete.value - baselines.baseline, 9) > {{ rule.threshold }}
        {%- elif rule.kind == 'fall_points' %}
        and round(baselines.baseline - latest_complete.value, 9) > {{ rule.threshold }}
        {%- elif rule.kind == 'below' %}
        and round(latest_complete.value, 9) < {{ rule.threshold }}
        {%- elif rule.kind == 'above' %}
        and round(latest_complete.value, 9) > {{ rule.threshold }}
        {%- else %}
        {{ exceptions.raise_compiler_error(
            "kpi_alert_rules: rule " ~ rule.rule ~ " has unknown kind '" ~ rule.kind
            ~ "' (rise_pct, fall_pct, rise_points, fall_points, below, above)"
        ) }}
        {%- endif %}

),

{% endfor %}
fired as (

    {% for rule in rules -%}
    select * from rule_{{ loop.index }}
    {% if not loop.last %}union all
    {% endif -%}
    {%- endfor %}

),

final as (

    select
        {{ dbt.hash("rule || '|' || team_id || '|' || kpi || '|' || period_grain || '|' || cast(period_start as varchar)") }}
            as alert_id,
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
