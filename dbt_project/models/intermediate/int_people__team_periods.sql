-- grain: one person × team validity period (a roster row)
--
-- other_ids: the ids the person appears under in usage logs (roster column
-- other_ids, optional, `|`-separated: Segment userId, Okta actor id, …),
-- lower-cased like the identities of stg_usage__events.
{%- set roster_columns = adapter.get_columns_in_relation(ref('roster')) | map(attribute='name') | list
    if execute else [] %}
with

roster as (

    select * from {{ ref('roster') }}

),

final as (

    select
        {{ pseudonymize('trim(email)') }} as person_id,
        lower(trim(email)) as email,
        team_id,
        role,
        valid_from,
        valid_to,
        lower(nullif(trim(github_login), '')) as github_login,
        nullif(trim(jira_account_id), '') as jira_account_id,
        {% if 'other_ids' in roster_columns -%}
            {{ split_to_array("lower(coalesce(other_ids, ''))", '|') }}
        {%- else -%}
            {{ split_to_array("''", '|') }}
        {%- endif %} as other_ids,
        valid_from <= {{ today() }}
        and (valid_to is null or valid_to > {{ today() }}) as is_current

    from roster

)

select * from final
