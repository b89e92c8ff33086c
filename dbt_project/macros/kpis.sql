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

{# The columns of int_kpi_values, for CTEs that keep a row of it whole. #}
{% macro kpi_value_columns() -%}
    {{ return([
        'team_id', 'kpi', 'period_grain', 'period_start', 'period_end', 'period_label', 'value',
        'sample_size', 'needs_min_sample', 'is_suppressed', 'is_complete', 'is_judged',
    ]) }}
{%- endmacro %}

{# Whether a KPI value rests on enough items to be judged (counts are always judged). #}
{% macro kpi_has_enough_items(needs_min_sample, sample_size) -%}
    (not {{ needs_min_sample }} or coalesce({{ sample_size }}, 0) >= {{ var('kpi_min_sample_size') }})
{%- endmacro %}

{# Whether a string starts with a prefix (null when either is null). #}
{% macro text_starts_with(string_expr, prefix_expr) -%}
    {{ return(adapter.dispatch('text_starts_with', 'productops')(string_expr, prefix_expr)) }}
{%- endmacro %}

{% macro default__text_starts_with(string_expr, prefix_expr) -%}
    starts_with({{ string_expr }}, {{ prefix_expr }})
{%- endmacro %}
