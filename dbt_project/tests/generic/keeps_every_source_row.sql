{#
    Every row landed in raw reaches the staging model: one that drops rows (a
    join, a filter, a bad cast) fails here instead of shrinking the marts
    without a word. source_where leaves out rows staging drops on purpose
    (deleted items); model_count counts what one raw row becomes.
#}
{% test keeps_every_source_row(model, source_name, table_name, source_where=none, model_count='count(*)') %}

with

raw_rows as (

    select count(*) as row_count

    from {{ source(source_name, table_name) }}

    {% if source_where %}where {{ source_where }}{% endif %}

),

staged_rows as (

    select {{ model_count }} as row_count

    from {{ model }}

),

final as (

    select
        '{{ source_name }}.{{ table_name }}' as raw_table,
        raw_rows.row_count as raw_rows,
        staged_rows.row_count as staged_rows

    from raw_rows

    cross join staged_rows

    where raw_rows.row_count <> staged_rows.row_count

)

select * from final

{% endtest %}
