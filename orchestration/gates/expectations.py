"""Great Expectations suites for the raw tables: what a landed batch must look like.

One suite per raw table. A suite is one DuckDB query that reads the batch (the
table's typed columns plus the payload fields staging will parse, parsed the
way staging parses them) and the expectations that batch must meet: keys
unique and not null, timestamps parseable and between 2000 and now, categories
in their sets, survey answers on their scales.

Each expectation is a Great Expectations expectation written down as its type
and arguments (`Expectation`): the gates evaluate it as SQL inside the
warehouse (`orchestration.gates.in_engine`), and `Expectation.to_gx()` gives
the Great Expectations object itself, which validates a pandas batch the same
way (`source_gates.validate`, the reference the SQL is tested against). A run
never imports Great Expectations (2–13 s), nor copies a batch into pandas.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ingestion.config import Settings

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
# Clock skew between a source and us: a record may be this far "in the future".
FUTURE_TOLERANCE = timedelta(hours=1)

# The formats of dbt macro parse_jira_timestamp (macros/timestamps.sql): a value
# these cannot parse would fail the dbt build, so the gate rejects it first.
JIRA_TIMESTAMP_FORMATS = "['%Y-%m-%dT%H:%M:%S.%g%z', '%Y-%m-%dT%H:%M:%S%z']"

JIRA_STATUS_CATEGORIES = ["new", "indeterminate", "done"]  # statusCategory.key, never the localised name
GITHUB_STATES = ["open", "closed"]
GITHUB_STATE_REASONS = ["completed", "not_planned", "reopened", "duplicate"]
LINEAR_STATE_TYPES = ["triage", "backlog", "unstarted", "started", "completed", "canceled"]
OKTA_OUTCOMES = ["SUCCESS", "FAILURE", "SKIPPED", "ALLOW", "DENY", "CHALLENGE", "UNKNOWN"]
SURVEY_FORMATS = ["google_forms", "surveymonkey", "typeform"]
ANSWER_KINDS = ["likert", "recommend", "numeric"]

# Columns whose values never appear in a gate's message (identities, hashes of them).
SENSITIVE_COLUMNS = frozenset({"user_email", "respondent_key", "response_key", "team_answer"})


@dataclass(frozen=True)
class SuiteContext:
    """What the expectations depend on besides the data."""

    settings: Settings
    reference_time: datetime  # "now": the demo's history end, else the clock

    @property
    def latest(self) -> datetime:
        return self.reference_time + FUTURE_TOLERANCE


@dataclass
class TableSuite:
    """The query that reads one raw table's batch, and what the batch must meet.

    `query` selects from `{batch}`, which the gate replaces with the table's
    unvalidated rows; it must return `_run_id`.
    """

    raw_table: str
    query: str
    expectations: list[Expectation] = field(default_factory=list)


# -- expectations ----------------------------------------------------------------

# A row condition: (column, value) keeps rows where the column equals the value;
# (column, NOT_NULL) rows where it is not null. Several are ANDed.
NOT_NULL = object()
Condition = tuple[str, Any]

# Expectation types used here and their Great Expectations classes.
GX_CLASSES = {
    "expect_column_values_to_not_be_null": "ExpectColumnValuesToNotBeNull",
    "expect_column_values_to_be_unique": "ExpectColumnValuesToBeUnique",
    "expect_compound_columns_to_be_unique": "ExpectCompoundColumnsToBeUnique",
    "expect_column_values_to_be_in_set": "ExpectColumnValuesToBeInSet",
    "expect_column_values_to_match_regex": "ExpectColumnValuesToMatchRegex",
    "expect_column_values_to_be_between": "ExpectColumnValuesToBeBetween",
}


@dataclass(frozen=True)
class Expectation:
    """A Great Expectations expectation as its type and arguments, without importing GX."""

    type: str  # GX's expectation type, e.g. expect_column_values_to_be_unique
    description: str
    column: str | None = None
    column_list: tuple[str, ...] = ()
    value_set: tuple[Any, ...] = ()
    regex: str | None = None
    min_value: Any = None
    max_value: Any = None
    row_condition: tuple[Condition, ...] = ()

    def to_gx(self) -> Any:
        """The Great Expectations expectation (imports GX: for the reference validation)."""
        from great_expectations import expectations as gxe
        from great_expectations.expectations.row_conditions import Column

        kwargs: dict[str, Any] = {"description": self.description}
        if self.column_list:
            kwargs["column_list"] = list(self.column_list)
        else:
            kwargs["column"] = self.column
        if self.type == "expect_column_values_to_be_in_set":
            kwargs["value_set"] = list(self.value_set)
        elif self.type == "expect_column_values_to_match_regex":
            kwargs["regex"] = self.regex
        elif self.type == "expect_column_values_to_be_between":
            kwargs |= {"min_value": self.min_value, "max_value": self.max_value}
        condition = None
        for column, value in self.row_condition:
            part = Column(column).is_not_null() if value is NOT_NULL else Column(column) == value
            condition = part if condition is None else condition & part
        if condition is not None:
            kwargs["row_condition"] = condition
        return getattr(gxe, GX_CLASSES[self.type])(**kwargs)


def unique(column: str) -> Expectation:
    return Expectation("expect_column_values_to_be_unique", f"{column} is unique", column=column)


def unique_together(*columns: str) -> Expectation:
    names = ", ".join(columns)
    return Expectation("expect_compound_columns_to_be_unique", f"({names}) is unique", column_list=columns)


def not_null(column: str, what: str | None = None, row_condition: tuple[Condition, ...] = ()) -> Expectation:
    return Expectation(
        "expect_column_values_to_not_be_null",
        what or f"{column} is not null",
        column=column,
        row_condition=row_condition,
    )


def key(column: str) -> list[Expectation]:
    return [not_null(column), unique(column)]


def in_set(column: str, values: list[str]) -> Expectation:
    return Expectation(
        "expect_column_values_to_be_in_set",
        f"{column} is one of {', '.join(values)}",
        column=column,
        value_set=tuple(values),
    )


def matches(column: str, pattern: str, what: str, row_condition: tuple[Condition, ...] = ()) -> Expectation:
    return Expectation(
        "expect_column_values_to_match_regex",
        f"{column} {what}",
        column=column,
        regex=pattern,
        row_condition=row_condition,
    )


def between(
    column: str,
    low: float | datetime | None,
    high: float | datetime | None,
    what: str,
    row_condition: tuple[Condition, ...] = (),
) -> Expectation:
    return Expectation(
        "expect_column_values_to_be_between",
        what,
        column=column,
        min_value=low,
        max_value=high,
        row_condition=row_condition,
    )


def in_time_range(column: str, ctx: SuiteContext) -> Expectation:
    return between(
        column,
        EARLIEST,
        ctx.latest,
        f"{column} lies between 2000-01-01 and {ctx.latest:%Y-%m-%d %H:%M} UTC",
    )


@dataclass(frozen=True)
class Stamp:
    """A timestamp inside the payload: parsed as staging parses it, then checked."""

    name: str
    path: str  # JSON path in the payload
    jira: bool = False  # Jira's offset without colon, else ISO 8601
    required: bool = True
    ranged: bool = True  # false for planned dates (due dates may lie ahead)

    def columns(self) -> str:
        text = f"payload ->> '{self.path}'"
        parsed = (
            f"try_strptime({text}, {JIRA_TIMESTAMP_FORMATS})"
            if self.jira
            else f"try_cast({text} as timestamp with time zone)"
        )
        return f"{text} as {self.name}_text, {parsed} as {self.name}"

    def expectations(self, ctx: SuiteContext) -> list[Expectation]:
        kind = "a Jira timestamp" if self.jira else "an ISO 8601 timestamp"
        if self.required:
            parses = not_null(self.name, f"{self.path} is present and parses as {kind}")
        else:
            parses = not_null(
                self.name,
                f"{self.path} parses as {kind} when present",
                row_condition=((f"{self.name}_text", NOT_NULL),),
            )
        return [parses, in_time_range(self.name, ctx)] if self.ranged else [parses]


def _stamp_columns(stamps: list[Stamp]) -> str:
    return ",\n        ".join(stamp.columns() for stamp in stamps)


def _stamp_expectations(stamps: list[Stamp], ctx: SuiteContext) -> list[Expectation]:
    return [e for stamp in stamps for e in stamp.expectations(ctx)]


# -- one suite per raw table ----------------------------------------------------


def jira_issues(ctx: SuiteContext) -> TableSuite:
    stamps = [
        Stamp("created_at", "$.fields.created", jira=True),
        Stamp("resolved_at", "$.fields.resolutiondate", jira=True, required=False),
    ]
    return TableSuite(
        "jira_issues",
        f"""
        select issue_id, issue_key, project_key, updated_at, changelog_total,
            payload ->> '$.fields.status.id' as status_id,
            {_stamp_columns(stamps)},
            _run_id
        from {{batch}}
        """,
        [
            *key("issue_id"),
            *key("issue_key"),
            matches("issue_key", r"^[A-Z][A-Z0-9_]*-[0-9]+$", "looks like PROJECT-123"),
            not_null("project_key"),
            not_null("status_id", "fields.status.id is present"),
            in_time_range("updated_at", ctx),
            between("changelog_total", 0, None, "changelog_total is not negative"),
            *_stamp_expectations(stamps, ctx),
        ],
    )


def jira_changelogs(ctx: SuiteContext) -> TableSuite:
    stamps = [Stamp("changed_at", "$.created", jira=True)]
    return TableSuite(
        "jira_changelogs",
        f"""
        select history_id, issue_id, created_at, {_stamp_columns(stamps)}, _run_id
        from {{batch}}
        """,
        [
            *key("history_id"),
            not_null("issue_id"),
            in_time_range("created_at", ctx),
            *_stamp_expectations(stamps, ctx),
        ],
    )


def jira_statuses(ctx: SuiteContext) -> TableSuite:
    return TableSuite(
        "jira_statuses",
        "select status_id, status_name, status_category_key, _run_id from {batch}",
        [*key("status_id"), not_null("status_name"), in_set("status_category_key", JIRA_STATUS_CATEGORIES)],
    )


def github_issues(ctx: SuiteContext) -> TableSuite:
    stamps = [
        Stamp("created_at", "$.created_at"),
        Stamp("closed_at", "$.closed_at", required=False),
        Stamp("milestone_due_at", "$.milestone.due_on", required=False, ranged=False),
    ]
    return TableSuite(
        "github_issues",
        f"""
        select issue_id, repository, issue_number, updated_at,
            payload ->> '$.state' as state,
            payload ->> '$.state_reason' as state_reason,
            {_stamp_columns(stamps)},
            _run_id
        from {{batch}}
        """,
        [
            *key("issue_id"),
            unique_together("repository", "issue_number"),
            matches("repository", r"^[^/\s]+/[^/\s]+$", "looks like owner/name"),
            between("issue_number", 1, None, "issue_number is positive"),
            in_time_range("updated_at", ctx),
            in_set("state", GITHUB_STATES),
            in_set("state_reason", GITHUB_STATE_REASONS),
            *_stamp_expectations(stamps, ctx),
        ],
    )


def github_pull_requests(ctx: SuiteContext) -> TableSuite:
    stamps = [Stamp("created_at", "$.created_at"), Stamp("closed_at", "$.closed_at", required=False)]
    return TableSuite(
        "github_pull_requests",
        f"""
        select pull_request_id, repository, pr_number, updated_at, {_stamp_columns(stamps)}, _run_id
        from {{batch}}
        """,
        [
            *key("pull_request_id"),
            unique_together("repository", "pr_number"),
            in_time_range("updated_at", ctx),
            *_stamp_expectations(stamps, ctx),
        ],
    )


def github_issue_events(ctx: SuiteContext) -> TableSuite:
    stamps = [Stamp("event_created_at", "$.created_at")]
    return TableSuite(
        "github_issue_events",
        f"""
        select event_id, repository, issue_number, event, created_at, {_stamp_columns(stamps)}, _run_id
        from {{batch}}
        """,
        [
            *key("event_id"),
            not_null("repository"),
            not_null("issue_number"),
            not_null("event"),
            in_time_range("created_at", ctx),
            *_stamp_expectations(stamps, ctx),
        ],
    )


def linear_issues(ctx: SuiteContext) -> TableSuite:
    stamps = [
        Stamp("created_at", "$.createdAt"),
        Stamp("started_at", "$.startedAt", required=False),
        Stamp("completed_at", "$.completedAt", required=False),
        Stamp("canceled_at", "$.canceledAt", required=False),
    ]
    return TableSuite(
        "linear_issues",
        f"""
        select issue_id, identifier, team_key, updated_at,
            payload ->> '$.state.type' as state_type,
            {_stamp_columns(stamps)},
            _run_id
        from {{batch}}
        """,
        [
            *key("issue_id"),
            *key("identifier"),
            matches("identifier", r"^[A-Z0-9]+-[0-9]+$", "looks like TEAM-123"),
            not_null("team_key"),
            in_time_range("updated_at", ctx),
            in_set("state_type", LINEAR_STATE_TYPES),
            *_stamp_expectations(stamps, ctx),
        ],
    )


def okta_system_log(ctx: SuiteContext) -> TableSuite:
    stamps = [Stamp("payload_published_at", "$.published")]
    return TableSuite(
        "okta_system_log",
        f"""
        select event_uuid, published_at, event_type,
            payload ->> '$.outcome.result' as outcome_result,
            {_stamp_columns(stamps)},
            _run_id
        from {{batch}}
        """,
        [
            *key("event_uuid"),
            not_null("event_type"),
            in_time_range("published_at", ctx),
            in_set("outcome_result", OKTA_OUTCOMES),
            *_stamp_expectations(stamps, ctx),
        ],
    )


def usage_events(ctx: SuiteContext) -> TableSuite:
    return TableSuite(
        "usage_events",
        """
        select event_key, occurred_at, user_email, identity_kind, tool, event, _source_file,
            _line_number, _run_id
        from {batch}
        """,
        [
            *key("event_key"),
            in_time_range("occurred_at", ctx),
            # only what was mapped as an email: a Segment userId or anonymousId is not one
            matches(
                "user_email",
                r"^[^@\s]+@[^@\s]+$",
                "looks like an email address",
                row_condition=(("identity_kind", "email"),),
            ),
            in_set("identity_kind", ["email", "id"]),
            not_null("tool"),
            not_null("event"),
            between("_line_number", 1, None, "_line_number is positive"),
        ],
    )


def survey_responses(ctx: SuiteContext) -> TableSuite:
    surveys = sorted({m.id for m in ctx.settings.surveys})
    return TableSuite(
        "survey_responses",
        """
        select response_key, survey_id, survey_format, survey_wave, submitted_at, respondent_key, _run_id
        from {batch}
        """,
        [
            *key("response_key"),
            unique_together("survey_id", "survey_wave", "respondent_key"),
            in_set("survey_id", surveys),
            in_set("survey_format", SURVEY_FORMATS),
            not_null("survey_wave"),
            in_time_range("submitted_at", ctx),
            # A salted SHA-256, never an email or a name.
            matches("respondent_key", r"^[0-9a-f]{64}$", "is a salted hash"),
        ],
    )


def survey_answers(ctx: SuiteContext) -> TableSuite:
    on_scale = []
    for mapping in ctx.settings.surveys:
        items = [(i.id, i.scale) for i in mapping.likert]
        if mapping.recommend_question:
            items.append(("recommend", mapping.recommend_scale))
        items += [(i.id, i.range) for i in mapping.numeric]
        for item_id, (low, high) in items:
            on_scale.append(
                between(
                    "answer_value",
                    low,
                    high,
                    f"answers to {mapping.id}/{item_id} lie on its scale {low:g}–{high:g}",
                    row_condition=(("survey_id", mapping.id), ("item_id", item_id)),
                )
            )
    return TableSuite(
        "survey_answers",
        """
        select answers.response_key, answers.item_id, answers.item_kind, answers.answer_value,
            answers.scale_min, answers.scale_max, responses.survey_id,
            (answers.answer_value - answers.scale_min)
                / nullif(answers.scale_max - answers.scale_min, 0) as scale_position,
            answers._run_id
        from {batch} as answers
        left join raw.survey_responses as responses
            on answers.response_key = responses.response_key
        """,
        [
            unique_together("response_key", "item_id"),
            not_null("survey_id", "every answer belongs to a landed response"),
            in_set("item_kind", ANSWER_KINDS),
            between("scale_position", 0, 1, "answer_value lies between scale_min and scale_max"),
            # eNPS counts promoters (9–10) and detractors (0–6): only a 0–10 answer means that.
            between(
                "answer_value",
                0,
                10,
                "recommend answers lie on the 0–10 eNPS scale",
                row_condition=(("item_kind", "recommend"),),
            ),
            *on_scale,
        ],
    )


SUITES: dict[str, Callable[[SuiteContext], TableSuite]] = {
    "jira_issues": jira_issues,
    "jira_changelogs": jira_changelogs,
    "jira_statuses": jira_statuses,
    "github_issues": github_issues,
    "github_pull_requests": github_pull_requests,
    "github_issue_events": github_issue_events,
    "linear_issues": linear_issues,
    "okta_system_log": okta_system_log,
    "usage_events": usage_events,
    "survey_responses": survey_responses,
    "survey_answers": survey_answers,
}


def suite_for(raw_table: str, ctx: SuiteContext) -> TableSuite:
    """The suite of a raw table; a table without one must be added above, not skipped."""
    try:
        return SUITES[raw_table](ctx)
    except KeyError:
        raise KeyError(f"raw.{raw_table} has no expectation suite in {__name__}") from None
