-- grain: one changed field (item) of one changelog history
with

source as (

    select * from {{ source('jira', 'changelogs') }}

),

histories as (

    select
        history_id,
        issue_id,
        {{ parse_jira_timestamp(json_text('payload', '$.created')) }} as changed_at,
        {{ json_text('payload', '$.author.accountId') }} as author_account_id,
        {{ json_array('payload', '$.items[*]') }} as items,
        _loaded_at as loaded_at,
        _run_id as run_id

    from source

),

items as (

    select
        history_id,
        issue_id,
        changed_at,
        author_account_id,
        loaded_at,
        run_id,
        {{ unnest_with_positions('items', 'item', 'item_index') }}

    from histories

),

renamed as (

    select
        history_id || ':' || item_index as change_item_id,
        history_id,
        cast(item_index as integer) as item_index,
        issue_id,
        changed_at,
        author_account_id,
        {{ json_text('item', '$.field') }} as field,
        {{ json_text('item', '$.fieldId') }} as field_id,
        {{ json_text('item', '$.fieldtype') }} as field_type,
        {{ json_text('item', '$.from') }} as from_value,
        {{ json_text('item', '$.fromString') }} as from_string,
        {{ json_text('item', '$.to') }} as to_value,
        {{ json_text('item', '$.toString') }} as to_string,
        loaded_at,
        run_id

    from items

)

select * from renamed
