{#
    Helpers of the KPI layer (int_kpi_values, kpi_status, kpi_alerts,
    improvement_impact). The KPI names themselves are defined once, in
    int_kpi_values; kpi_names() lists them for the targets' validation.
#}

{# The KPIs int_kpi_values computes; `adoption_rate:<tool_id>` comes on top, one per tool. #}
{% macro kpi_names() -%}
    {{ return([
        'cycle_time_p85_days', 'lead_time_p85_days', 'on_time_rate', 'throughput',
        'satisfaction_score', 'enps', 'response_rate', 'completion_rate',
    ]) }}
{%- endmacro %}

{# Whether a KPI value rests on enough items to be judged (counts are always judged). #}
{% macro kpi_has_enough_items(needs_min_sample, sample_size) -%}
    (not {{ needs_min_sample }} or coalesce({{ sample_size }}, 0) >= {{ var('kpi_min_sample_size') }})
{%- endmacro %}
