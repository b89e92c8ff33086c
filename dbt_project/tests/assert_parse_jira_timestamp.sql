{{ config(meta={'dagster': {'ref': {'name': 'stg_jira__issues'}}}) }}
-- parse_jira_timestamp turns Jira's offsets without a colon into exact UTC
-- instants, on both sides of a daylight-saving change.
with

cases as (

    select
        literal_cases.jira_text,
        cast(literal_cases.expected_text as {{ type_timestamptz() }}) as expected

    from (
        values
        ('2024-03-31T01:30:00.000+0100', '2024-03-31 00:30:00+00'),
        ('2024-03-31T03:30:00.000+0200', '2024-03-31 01:30:00+00'),
        ('2024-10-27T02:30:00.000+0100', '2024-10-27 01:30:00+00'),
        ('2024-03-31T10:00:00.000+0200', '2024-03-31 08:00:00+00'),
        ('2024-01-15T23:59:59.999-0530', '2024-01-16 05:29:59.999+00'),
        ('2024-06-01T12:00:00+0000', '2024-06-01 12:00:00+00')
    ) as literal_cases (jira_text, expected_text)

),

final as (

    select
        jira_text,
        expected,
        {{ parse_jira_timestamp('jira_text') }} as parsed

    from cases

)

select * from final

where parsed is distinct from expected
