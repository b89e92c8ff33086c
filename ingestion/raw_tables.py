"""DDL of the raw layer: the contract between the loader and dbt staging.

API entities keep one row per natural key (the latest version wins on merge)
with the source payload as JSON; file sources keep typed rows plus the file
and line they came from. Every row carries the run that landed it.
"""

RAW_SCHEMA = "raw"

# Columns added after the first release: in the DDL of a new warehouse, and
# added to an older one (`alter table`, which takes no NOT NULL here). The
# four fates of a file's lines, landed being rows_landed.
ADDED_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "usage_events": [
        ("identity_kind", "varchar default 'email'"),  # email | id (a user id or an anonymous id)
    ],
    "loaded_files": [
        ("source", "varchar"),
        ("rows_duplicate", "bigint default 0"),  # dropped: the key landed already
        ("rows_skipped", "bigint default 0"),  # blank, or left out by the mapping
        ("rows_rejected", "bigint default 0"),  # quarantined with file:line
        ("problem", "varchar"),  # why the file could not be read at all
    ],
}

# Tables de-duplicated by the loader on these columns without a primary key:
# an index over millions of usage events cost more time and memory than the
# rest of their load (issue 16), and an anti-join does the same work for free.
# Each key is still unique (the dbt source test `unique` guards it).
DEDUPE_KEYS: dict[str, tuple[str, ...]] = {
    "usage_events": ("event_key",),
}

_AUDIT = """
    _loaded_at timestamptz not null,
    _run_id varchar not null"""

TABLES: dict[str, str] = {
    # --- Jira Cloud -------------------------------------------------------
    "jira_issues": f"""
        issue_id varchar primary key,       -- Jira's numeric id, as text
        issue_key varchar not null,         -- e.g. PAY-123
        project_key varchar not null,
        updated_at timestamptz not null,
        changelog_total integer,            -- changelog.total the API reported
        payload json not null,              -- the issue as returned, changelog removed
        _source_url varchar,
        is_deleted boolean not null default false,
        deleted_at timestamptz,{_AUDIT}""",
    "jira_changelogs": f"""
        history_id varchar primary key,     -- changelog history id
        issue_id varchar not null,
        created_at timestamptz not null,
        payload json not null,              -- one history: {{id, author, created, items[]}}{_AUDIT}""",
    "jira_statuses": f"""
        status_id varchar primary key,
        status_name varchar not null,
        status_category_key varchar not null,  -- new | indeterminate | done
        payload json not null,{_AUDIT}""",
    # --- GitHub -----------------------------------------------------------
    "github_issues": f"""
        issue_id bigint primary key,        -- GitHub's global id
        repository varchar not null,        -- owner/name
        issue_number integer not null,
        updated_at timestamptz not null,
        payload json not null,
        _source_url varchar,
        is_deleted boolean not null default false,
        deleted_at timestamptz,{_AUDIT}""",
    "github_pull_requests": f"""
        pull_request_id bigint primary key,
        repository varchar not null,
        pr_number integer not null,
        updated_at timestamptz not null,
        payload json not null,
        _source_url varchar,{_AUDIT}""",
    "github_issue_events": f"""
        event_id bigint primary key,
        repository varchar not null,
        issue_number integer not null,
        event varchar not null,             -- assigned, labeled, closed, reopened, ...
        created_at timestamptz not null,
        payload json not null,{_AUDIT}""",
    # --- Linear -----------------------------------------------------------
    "linear_issues": f"""
        issue_id varchar primary key,
        identifier varchar not null,        -- e.g. ENG-42
        team_key varchar not null,
        updated_at timestamptz not null,
        payload json not null,
        is_deleted boolean not null default false,
        deleted_at timestamptz,{_AUDIT}""",
    # --- Okta System Log --------------------------------------------------
    "okta_system_log": f"""
        event_uuid varchar primary key,
        published_at timestamptz not null,
        event_type varchar not null,
        payload json not null,{_AUDIT}""",
    # --- Files from the landing folder ------------------------------------
    "usage_events": f"""
        event_key varchar not null,         -- event_id, else a hash of file + line; unique (DEDUPE_KEYS)
        occurred_at timestamptz not null,   -- UTC
        user_email varchar not null,        -- the email, lower-cased; or a user id (identity_kind)
        tool varchar not null,              -- as written in the log (an alias)
        event varchar not null,
        _source_file varchar not null,
        _line_number integer not null,{_AUDIT}""",
    "survey_responses": f"""
        response_key varchar primary key,   -- hash of survey, wave and respondent
        survey_id varchar not null,         -- the mapping's survey id
        survey_format varchar not null,     -- google_forms | surveymonkey | typeform
        survey_wave varchar not null,       -- e.g. 2026-Q3
        submitted_at timestamptz not null,
        respondent_key varchar not null,    -- salted hash; never an email or name
        team_answer varchar,                -- the team as the respondent named it
        _source_file varchar not null,
        _line_number integer not null,{_AUDIT}""",
    "survey_answers": f"""
        response_key varchar not null,
        item_id varchar not null,           -- the mapping's item id
        item_kind varchar not null,         -- likert | recommend | numeric
        answer_value double,                -- null when left blank
        scale_min double not null,
        scale_max double not null,
        primary key (response_key, item_id),{_AUDIT}""",
    # --- Bookkeeping ------------------------------------------------------
    "rejected_records": """
        source varchar not null,
        stream varchar not null,
        locator varchar not null,           -- file:line or url#page
        reason varchar not null,
        payload varchar,                    -- raw text; identity fields removed
        run_id varchar not null,
        rejected_at timestamptz not null""",
    "load_state": """
        source varchar not null,
        stream varchar not null,
        cursor_value varchar,
        updated_at timestamptz not null,
        run_id varchar not null,
        primary key (source, stream)""",
    "load_log": """
        run_id varchar not null,
        source varchar not null,
        stream varchar not null,
        pages integer not null,
        rows_landed bigint not null,
        rows_rejected bigint not null,
        started_at timestamptz not null,
        finished_at timestamptz not null""",
    "loaded_files": """
        path varchar primary key,           -- a file under the landing folder, or surveys:<id>
        sha256 varchar not null,            -- its digest when it landed ('unvalidated': read it again)
        stream varchar not null,
        rows_landed bigint not null,
        run_id varchar not null,
        loaded_at timestamptz not null""",
}


def create_table_sql(name: str, qualified: str | None = None) -> str:
    """The DDL of raw table `name` as a new warehouse has it (created as `qualified` if given)."""
    added = "".join(f",\n        {column} {definition}" for column, definition in ADDED_COLUMNS.get(name, []))
    return f"create table if not exists {qualified or f'{RAW_SCHEMA}.{name}'} ({TABLES[name]}{added}\n)"


def create_statements() -> list[str]:
    """Idempotent DDL for the whole raw layer."""
    statements = [f"create schema if not exists {RAW_SCHEMA}"]
    for name in TABLES:
        statements.append(create_table_sql(name))
    for name, added in ADDED_COLUMNS.items():
        for column, definition in added:
            statements.append(
                f"alter table {RAW_SCHEMA}.{name} add column if not exists {column} {definition}"
            )
    return statements
