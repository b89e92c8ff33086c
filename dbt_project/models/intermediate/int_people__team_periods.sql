-- grain: one person × team validity period (a roster row)
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
        valid_from <= {{ today() }}
        and (valid_to is null or valid_to > {{ today() }}) as is_current

    from roster

)

select * from final
