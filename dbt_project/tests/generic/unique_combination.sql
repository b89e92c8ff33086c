{#
    Fails for every combination of the given columns that occurs more than
    once (the key of a table whose grain spans several columns).
#}
{% test unique_combination(model, columns) %}

    with

    counted as (

        select
            {{ columns | join(', ') }},
            count(*) as occurrences

        from {{ model }}

        group by {{ columns | join(', ') }}

    )

    select * from counted

    where occurrences > 1

{% endtest %}
