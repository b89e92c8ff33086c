{#
    Sums and means that do not depend on the order rows arrive in. A double
    sum adds in whatever order DuckDB's parallel aggregation meets the rows,
    so the last bits of a mean could differ between two runs on the same data;
    summed as decimals (exact integers inside), they cannot. Twelve decimal
    places keep every rate and hour figure of the marts exact to far below
    what anyone reads.
#}
{% macro exact_sum(expr) -%}
    {{ return(adapter.dispatch('exact_sum', 'productops')(expr)) }}
{%- endmacro %}

{% macro default__exact_sum(expr) -%}
    cast(sum(cast({{ expr }} as decimal(38, 12))) as {{ type_double() }})
{%- endmacro %}

{% macro exact_avg(expr) -%}
    {{ return(adapter.dispatch('exact_avg', 'productops')(expr)) }}
{%- endmacro %}

{% macro default__exact_avg(expr) -%}
    cast(avg(cast({{ expr }} as decimal(38, 12))) as {{ type_double() }})
{%- endmacro %}

{#
    A float rounded to `places` decimal places (threshold comparisons that must
    not flip on the last bits of a float).
#}
{% macro round_to(expr, places) -%}
    {{ return(adapter.dispatch('round_to', 'productops')(expr, places)) }}
{%- endmacro %}

{% macro default__round_to(expr, places) -%}
    round({{ expr }}, {{ places }})
{%- endmacro %}
