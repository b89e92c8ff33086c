"""The schema of `productops.toml`, checked with pydantic before anything runs.

An unknown section or key, a value of the wrong type or an impossible value
is a `ConfigError` naming the file, the key (`surveys[1].likert[0].scale`) and,
for an unknown key, the closest valid one (`anonymity_threshold` at the top
level: "did you mean [pipeline] anonymity_threshold?"). Types are strict: a
number written as text is an error, not silently converted.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ingestion.config import SOURCES, ConfigError

NonNegativeInt = Annotated[int, Field(ge=0)]
Hours = Annotated[float, Field(ge=0)]
Share = Annotated[float, Field(ge=0, le=1)]
Pair = Annotated[list[float], Field(min_length=2, max_length=2)]
Names = str | Annotated[list[str], Field(min_length=1)]
Source = Literal["jira", "github", "linear", "okta", "usage", "surveys"]
assert set(Source.__args__) == set(SOURCES)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Pipeline(_Section):
    rejected_share_threshold: Share = 0.01
    rejected_min_count: NonNegativeInt | dict[Source, NonNegativeInt] = 10
    volume_max_drop: Share = 0.5
    volume_min_rows: NonNegativeInt = 100
    freshness_hours: Hours | dict[Source, Hours] = Field(default_factory=dict)
    anonymity_threshold: Annotated[int, Field(ge=1)] = 5
    overlap_minutes: NonNegativeInt = 60


class Usage(_Section):
    timestamp: Names = "timestamp"
    user_email: Names = "user_email"
    user_id: Names | None = None
    tool: Names = "tool"
    event: Names = "event"
    event_id: Names | None = "event_id"


class UsageFiles(_Section):
    files: Annotated[str, Field(min_length=1)]
    timestamp: Names | None = None
    user_email: Names | None = None
    user_id: Names | None = None
    tool: Names | None = None
    event: Names | None = None
    event_id: Names | None = None
    tool_name: Annotated[str, Field(min_length=1)] | None = None
    only: dict[str, str] = Field(default_factory=dict)


def _ordered(pair: list[float] | None, what: str) -> None:
    if pair is not None and not pair[0] < pair[1]:
        raise ValueError(f"{what} must go from low to high, got {pair}")


class Likert(_Section):
    id: Annotated[str, Field(min_length=1)]
    question: Annotated[str, Field(min_length=1)]
    scale: Pair = Field(default_factory=lambda: [1.0, 5.0])
    labels: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _scale(self) -> Likert:
        _ordered(self.scale, "scale")
        return self


class Numeric(_Section):
    id: Annotated[str, Field(min_length=1)]
    question: Annotated[str, Field(min_length=1)]
    range: Pair | None = None

    @model_validator(mode="after")
    def _range(self) -> Numeric:
        _ordered(self.range, "range")
        return self


class Survey(_Section):
    id: Annotated[str, Field(min_length=1)]
    format: Literal["google_forms", "surveymonkey", "typeform"]
    files: str = "*.csv"
    time_zone: str = "UTC"
    wave_from: Literal["filename", "quarter"] = "filename"
    wave_pattern: str = r"(\d{4}-Q[1-4])"
    respondent_question: str | None = None
    team_question: str = ""
    recommend_question: str | None = None
    recommend_scale: Pair = Field(default_factory=lambda: [0.0, 10.0])
    likert: list[Likert] = Field(default_factory=list)
    numeric: list[Numeric] = Field(default_factory=list)
    labels: dict[str, float] = Field(default_factory=dict)
    form_id: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Survey:
        _ordered(self.recommend_scale, "recommend_scale")
        ids = [item.id for item in (*self.likert, *self.numeric)]
        if duplicated := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"item ids must be unique in a survey: {', '.join(duplicated)}")
        return self


class ConfigFile(_Section):
    pipeline: Pipeline = Field(default_factory=Pipeline)
    usage: Usage = Field(default_factory=Usage)
    usage_files: list[UsageFiles] = Field(default_factory=list)
    surveys: list[Survey] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_surveys(self) -> ConfigFile:
        ids = [s.id for s in self.surveys]
        if duplicated := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"survey ids must be unique: {', '.join(duplicated)}")
        return self


# The model of each section, by its path without list positions.
SECTIONS: dict[tuple[str, ...], type[BaseModel]] = {
    (): ConfigFile,
    ("pipeline",): Pipeline,
    ("usage",): Usage,
    ("usage_files",): UsageFiles,
    ("surveys",): Survey,
    ("surveys", "likert"): Likert,
    ("surveys", "numeric"): Numeric,
}


def check_config(data: Mapping[str, Any], path: Path) -> ConfigFile:
    """The parsed file, or a `ConfigError` listing every problem in it."""
    try:
        return ConfigFile.model_validate(dict(data))
    except ValidationError as exc:
        problems = _problems(exc.errors())
        listed = "\n".join(f"  - {p}" for p in problems)
        raise ConfigError(f"{path}: {len(problems)} problem(s):\n{listed}") from None


# Error types that only say "this branch of `number | table` did not fit".
_BRANCH_MISMATCH = {"dict_type", "list_type", "int_type", "float_type", "string_type", "model_type"}


def _problems(errors: list[Mapping[str, Any]]) -> list[str]:
    """One line per problem: pydantic reports each alternative of a union
    (`10` or `{ usage = 10 }`); keep the one that fits what was written."""
    by_key: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    for error in errors:
        loc = tuple(p for p in error["loc"] if isinstance(p, int) or not _is_union_tag(p))
        by_key.setdefault(loc, []).append(error)
    problems = []
    for loc, found in by_key.items():
        if any(other[: len(loc)] == loc and other != loc for other in by_key):
            continue  # a table was written: the complaint of the scalar alternative is noise
        specific = [e for e in found if e["type"] not in _BRANCH_MISMATCH] or found
        problems.append(_problem(loc, specific[0]))
    return problems


def _is_union_tag(part: str) -> bool:
    return part == "[key]" or "[" in part or "-" in part or part in {"str", "int", "float", "bool"}


def _key(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(the file)"


def _problem(loc: tuple[Any, ...], error: Mapping[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        return _unknown_key(loc)
    message = error["msg"].removeprefix("Value error, ")
    if not isinstance(error.get("input"), dict | list):
        message += f" (got {error.get('input')!r})"
    return f"{_key(loc)}: {message}"


def _unknown_key(loc: tuple[Any, ...]) -> str:
    *parent, name = loc
    name = str(name)
    section = tuple(p for p in parent if not isinstance(p, int))
    model = SECTIONS.get(section)
    where = f"in [{'.'.join(section)}]" if section else "at the top level"
    if model is None:
        return f"{_key(loc)}: unknown key {name!r} {where}"
    unknown = f"{_key(loc)}: unknown key {name!r} {where}"
    # A key written outside its section: `anonymity_threshold` at the top level.
    elsewhere = {
        f"[{'.'.join(other)}] {key}": key
        for other, other_model in SECTIONS.items()
        if other and other != section and other[: len(section)] == section
        for key in other_model.model_fields
    }
    for label, key in elsewhere.items():
        if key == name:
            return f"{unknown}; did you mean {label}?"
    if hint := difflib.get_close_matches(name, list(model.model_fields), n=1, cutoff=0.6):
        return f"{unknown}; did you mean {hint[0]!r}?"
    if hint := difflib.get_close_matches(name, list(elsewhere.values()), n=1, cutoff=0.6):
        label = next(label for label, key in elsewhere.items() if key == hint[0])
        return f"{unknown}; did you mean {label}?"
    return f"{unknown}; valid keys: {', '.join(model.model_fields)}"


POSTGRES_URL_SCHEMES = ("postgresql", "postgres")
POSTGRES_URL_EXAMPLE = "postgresql://user@host:5432/database"


class EngineEnvironment(_Section):
    """The engine variables (PRODUCTOPS_ENGINE, PRODUCTOPS_POSTGRES_URL, PRODUCTOPS_SPARK_DIR)."""

    engine: Literal["duckdb", "postgres", "spark"] = "duckdb"
    # A secret: never echoed, not even in an error about it.
    postgres_url: str | None = Field(default=None, repr=False)
    spark_dir: Annotated[str, Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _reachable(self) -> EngineEnvironment:
        if self.engine == "postgres" and not self.postgres_url:
            raise ValueError(
                "PRODUCTOPS_ENGINE=postgres needs PRODUCTOPS_POSTGRES_URL, a libpq URL such as "
                f"{POSTGRES_URL_EXAMPLE} (the password from ~/.pgpass or PGPASSWORD, or in the URL)"
            )
        if self.postgres_url is not None:
            _check_postgres_url(self.postgres_url)
        return self


def _check_postgres_url(url: str) -> None:
    """A libpq URL libpq itself accepts; the message never repeats the URL (it may hold a password)."""
    from urllib.parse import urlsplit

    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in POSTGRES_URL_SCHEMES:
        raise ValueError(
            f"PRODUCTOPS_POSTGRES_URL must be a libpq URL starting with postgresql:// "
            f"(e.g. {POSTGRES_URL_EXAMPLE})"
        )
    try:
        from psycopg.conninfo import conninfo_to_dict

        conninfo_to_dict(url)
        urlsplit(url).port  # noqa: B018 - raises on a port that is not a number
    except Exception:
        raise ValueError(
            f"PRODUCTOPS_POSTGRES_URL is not a valid libpq URL (expected {POSTGRES_URL_EXAMPLE})"
        ) from None


def check_engine(engine: str, postgres_url: str | None, spark_dir: str | None) -> EngineEnvironment:
    """The engine variables, or a `ConfigError` saying which one is wrong (never its secret)."""
    try:
        return EngineEnvironment(engine=engine, postgres_url=postgres_url, spark_dir=spark_dir)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            message = error["msg"].removeprefix("Value error, ")
            if field == "engine":
                message = f"PRODUCTOPS_ENGINE: {message} (got {engine!r})"
            elif field:
                message = f"PRODUCTOPS_{field.upper()}: {message}"
            problems.append(message)
        raise ConfigError("; ".join(problems)) from None
