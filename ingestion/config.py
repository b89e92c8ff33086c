"""Settings: a TOML file for structure, the environment for places and secrets.

Secrets are read from the environment only, kept out of `repr()` and never
written anywhere. Nothing here is read at import time.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WAREHOUSE = REPO_ROOT / "warehouse" / "productops.duckdb"
DEFAULT_PUBLISHED = REPO_ROOT / "warehouse" / "published" / "productops.duckdb"
DEFAULT_DEMO_DIR = REPO_ROOT / "demo"
DEMO_SALT = "productops-demo-salt"  # only ever used for the bundled demo

# How old (hours) each source's newest record may be before the run fails;
# a source missing here is not checked (survey waves are quarterly).
DEFAULT_FRESHNESS_HOURS: dict[str, float] = {
    "jira": 168,
    "github": 168,
    "linear": 168,
    "okta": 72,
    "usage": 72,
}


SOURCES = ("jira", "github", "linear", "okta", "usage", "surveys")
DEFAULT_REJECTED_MIN_COUNT = 10
# Where dbt builds the marts and readers find them (orchestration/engine.py).
ENGINES = ("duckdb", "postgres", "spark")
DEFAULT_ENGINE = "duckdb"
ENGINE_VARIABLE = "PRODUCTOPS_ENGINE"
POSTGRES_URL_VARIABLE = "PRODUCTOPS_POSTGRES_URL"
SPARK_DIR_VARIABLE = "PRODUCTOPS_SPARK_DIR"


# The variables that point a run at live sources, other files or another
# Dagster instance: cleared by whatever must run on the embedded default
# (the tests, the benchmark's child runs).
PIPELINE_VARIABLES = (
    "JIRA_BASE_URL",
    "JIRA_EMAIL",
    "JIRA_API_TOKEN",
    "JIRA_JQL",
    "GITHUB_API_URL",
    "GITHUB_TOKEN",
    "GITHUB_REPOS",
    "LINEAR_API_URL",
    "LINEAR_API_KEY",
    "OKTA_ORG_URL",
    "OKTA_API_TOKEN",
    "TYPEFORM_API_URL",
    "TYPEFORM_TOKEN",
    "PRODUCTOPS_WAREHOUSE",
    "PRODUCTOPS_PUBLISHED",
    "PRODUCTOPS_LANDING_DIR",
    "PRODUCTOPS_SEEDS_DIR",
    "PRODUCTOPS_CONFIG",
    "PRODUCTOPS_DEMO_DIR",
    "PRODUCTOPS_SALT",
    "PRODUCTOPS_WAIT_SECONDS",
    "PRODUCTOPS_DBT_RUNS_KEPT",
    "PRODUCTOPS_RUN_HISTORY_DAYS",
    "PRODUCTOPS_HISTORY_FSYNC",
    "PRODUCTOPS_AS_OF",
    "PRODUCTOPS_DEMO",
    "PRODUCTOPS_ENGINE",
    "PRODUCTOPS_POSTGRES_URL",
    "PRODUCTOPS_SPARK_DIR",
    "DAGSTER_HOME",
)
# Set (to 1) by `productops run --demo`: run the demo organisation whatever is configured.
DEMO_VARIABLE = "PRODUCTOPS_DEMO"


class ConfigError(ValueError):
    """The configuration is incomplete or contradictory."""


Labels = tuple[tuple[str, float], ...]  # answer label → score, as the TOML's `labels` table


@dataclass(frozen=True)
class LikertItem:
    id: str
    question: str
    scale: tuple[float, float]
    labels: Labels = ()  # this item's own labels, over the survey's and the built-in ones


@dataclass(frozen=True)
class NumericItem:
    """A numeric question that is not a Likert item (hours in meetings): kept per
    answer, never part of the satisfaction score."""

    id: str
    question: str
    range: tuple[float, float] = (0.0, 1_000_000.0)  # answers outside are quarantined


@dataclass(frozen=True)
class SurveyMapping:
    """How one survey's export maps onto team, Likert items and eNPS."""

    id: str
    format: str  # google_forms | surveymonkey | typeform
    files: str = "*.csv"
    time_zone: str = "UTC"
    wave_from: str = "filename"  # filename | quarter
    wave_pattern: str = r"(\d{4}-Q[1-4])"
    respondent_question: str | None = None
    team_question: str = ""
    recommend_question: str | None = None
    recommend_scale: tuple[float, float] = (0, 10)
    likert: tuple[LikertItem, ...] = ()
    numeric: tuple[NumericItem, ...] = ()
    labels: Labels = ()  # every Likert item's labels, over the built-in scales
    form_id: str | None = None  # typeform

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> SurveyMapping:
        data = dict(raw)
        likert = tuple(
            LikertItem(
                id=i["id"],
                question=i["question"],
                scale=tuple(i.get("scale", (1, 5))),
                labels=_labels(i.get("labels")),
            )
            for i in data.pop("likert", [])
        )
        numeric = tuple(
            NumericItem(id=i["id"], question=i["question"], range=tuple(i.get("range", NumericItem.range)))
            for i in data.pop("numeric", [])
        )
        if "recommend_scale" in data:
            data["recommend_scale"] = tuple(data["recommend_scale"])
        data["labels"] = _labels(data.get("labels"))
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"survey {data.get('id')!r}: unknown keys {sorted(unknown)}")
        return cls(likert=likert, numeric=numeric, **data)


def _labels(table: Mapping[str, float] | None) -> Labels:
    return tuple(sorted((str(k), float(v)) for k, v in (table or {}).items()))


@dataclass(frozen=True)
class UsageMapping:
    """Field names of usage event logs; each is renameable."""

    timestamp: str = "timestamp"
    user_email: str = "user_email"
    user_id: str | None = None  # identities that are not emails (Segment userId, …)
    tool: str = "tool"
    event: str = "event"
    event_id: str | None = "event_id"


@dataclass(frozen=True)
class Secret:
    """A credential read from the environment; never printed."""

    value: str = field(repr=False)

    def __repr__(self) -> str:
        return "Secret(****)"

    def __str__(self) -> str:
        return "****"


def masked_url(url: str) -> str:
    """A connection URL fit for a log line: scheme, host, port and database; no user, no
    password, no query options (a libpq URL may carry `password=` there)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname or "localhost"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "****"
    return f"{parts.scheme}://****@{host}{port}{parts.path}"


@dataclass(frozen=True)
class EngineSettings:
    """Which engine builds and serves the marts, and how to reach it."""

    name: str = DEFAULT_ENGINE
    postgres_url: Secret | None = None
    spark_dir: Path | None = None  # None: <warehouse dir>/spark

    @property
    def where(self) -> str:
        """The engine for a log line, its secret masked."""
        if self.name == "postgres" and self.postgres_url is not None:
            return f"postgres ({masked_url(self.postgres_url.value)})"
        return self.name


@dataclass(frozen=True)
class JiraSettings:
    base_url: str
    email: str
    api_token: Secret
    jql: str = ""


@dataclass(frozen=True)
class GitHubSettings:
    api_url: str
    token: Secret | None
    repos: tuple[str, ...]


@dataclass(frozen=True)
class OktaSettings:
    org_url: str
    api_token: Secret


@dataclass(frozen=True)
class LinearSettings:
    api_url: str
    api_key: Secret


@dataclass(frozen=True)
class TypeformSettings:
    api_url: str
    token: Secret


@dataclass(frozen=True)
class Settings:
    warehouse: Path
    published: Path
    landing_dir: Path
    seeds_dir: Path
    demo_dir: Path
    demo_mode: bool
    salt: Secret
    rejected_share_threshold: float = 0.01
    # The rejected-share gate fails only from this many rejected records on:
    # a share of a small batch (1 bad answer of 8) means nothing. By source.
    rejected_min_count: Mapping[str, int] = field(
        default_factory=lambda: dict.fromkeys(SOURCES, DEFAULT_REJECTED_MIN_COUNT)
    )
    anonymity_threshold: int = 5
    # Data-quality gates (see README "Data-quality gates").
    volume_max_drop: float = 0.5  # a table's load may shrink at most this much vs the previous one
    volume_min_rows: int = 100  # previous loads smaller than this are not compared
    freshness_hours: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_FRESHNESS_HOURS))
    overlap_minutes: int = 60
    usage: UsageMapping = UsageMapping()
    surveys: tuple[SurveyMapping, ...] = ()
    jira: JiraSettings | None = None
    github: GitHubSettings | None = None
    okta: OktaSettings | None = None
    linear: LinearSettings | None = None
    typeform: TypeformSettings | None = None
    config_file: Path | None = None
    # Why the demo runs ("asked for with --demo", "nothing is configured"); None outside it.
    demo_reason: str | None = None
    file_sources: tuple[str, ...] = ()  # what configures the file sources, when they are
    engine: EngineSettings = EngineSettings()

    @property
    def spark_dir(self) -> Path:
        return self.engine.spark_dir or self.warehouse.parent / "spark"

    @property
    def live_sources(self) -> list[str]:
        return [n for n in ("jira", "github", "linear", "okta", "typeform") if getattr(self, n) is not None]


def _path(env: Mapping[str, str], name: str, default: Path) -> Path:
    value = env.get(name)
    # Absolute, but links kept: the published file is a fixed symlink through the
    # swapped `current` set, and resolving it would pin one publish for good.
    return Path(os.path.abspath(Path(value).expanduser())) if value else default


def _live_sources(env: Mapping[str, str]) -> dict[str, Any]:
    sources: dict[str, Any] = {}
    if env.get("JIRA_BASE_URL") and env.get("JIRA_API_TOKEN"):
        sources["jira"] = JiraSettings(
            base_url=env["JIRA_BASE_URL"].rstrip("/"),
            email=env.get("JIRA_EMAIL", ""),
            api_token=Secret(env["JIRA_API_TOKEN"]),
            jql=env.get("JIRA_JQL", ""),
        )
    if env.get("GITHUB_REPOS"):
        token = env.get("GITHUB_TOKEN")
        sources["github"] = GitHubSettings(
            api_url=env.get("GITHUB_API_URL", "https://api.github.com").rstrip("/"),
            token=Secret(token) if token else None,
            repos=tuple(r.strip() for r in env["GITHUB_REPOS"].split(",") if r.strip()),
        )
    if env.get("OKTA_ORG_URL") and env.get("OKTA_API_TOKEN"):
        sources["okta"] = OktaSettings(
            org_url=env["OKTA_ORG_URL"].rstrip("/"), api_token=Secret(env["OKTA_API_TOKEN"])
        )
    if env.get("LINEAR_API_KEY"):
        sources["linear"] = LinearSettings(
            api_url=env.get("LINEAR_API_URL", "https://api.linear.app/graphql"),
            api_key=Secret(env["LINEAR_API_KEY"]),
        )
    if env.get("TYPEFORM_TOKEN"):
        sources["typeform"] = TypeformSettings(
            api_url=env.get("TYPEFORM_API_URL", "https://api.typeform.com").rstrip("/"),
            token=Secret(env["TYPEFORM_TOKEN"]),
        )
    return sources


def _share(pipeline: Mapping[str, Any], name: str, default: float) -> float:
    value = pipeline.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ConfigError(f"[pipeline] {name} must be a number between 0 and 1, got {value!r}")
    return float(value)


def _count(pipeline: Mapping[str, Any], name: str, default: int) -> int:
    value = pipeline.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"[pipeline] {name} must be a whole number >= 0, got {value!r}")
    return value


def _rejected_min_count(pipeline: Mapping[str, Any]) -> dict[str, int]:
    """`rejected_min_count = 20` (every source) or a table by source over the default."""
    value = pipeline.get("rejected_min_count", {})
    if not isinstance(value, Mapping):
        value = dict.fromkeys(SOURCES, value)
    counts = dict.fromkeys(SOURCES, DEFAULT_REJECTED_MIN_COUNT)
    for source, count in value.items():
        if source not in counts:
            raise ConfigError(f"[pipeline] rejected_min_count.{source}: not a source ({', '.join(SOURCES)})")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ConfigError(f"[pipeline] rejected_min_count must be a whole number >= 0, got {count!r}")
        counts[source] = count
    return counts


def _freshness_hours(pipeline: Mapping[str, Any]) -> dict[str, float]:
    """`freshness_hours = 48` (every source checked by default) or a table by source
    that overrides the defaults one source at a time; 0 turns a source's check off."""
    value = pipeline.get("freshness_hours", {})
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = dict.fromkeys(DEFAULT_FRESHNESS_HOURS, value)
    if not isinstance(value, Mapping):
        raise ConfigError(f"[pipeline] freshness_hours must be a number or a table by source, got {value!r}")
    hours: dict[str, float] = {}
    for source, window in {**DEFAULT_FRESHNESS_HOURS, **value}.items():
        if isinstance(window, bool) or not isinstance(window, int | float) or window < 0:
            raise ConfigError(f"[pipeline] freshness_hours.{source} must be a number of hours >= 0")
        if window > 0:
            hours[source] = float(window)
    return hours


def _file_sources(env: Mapping[str, str]) -> tuple[str, ...]:
    """What configures a file source, if anything: the user's configuration file
    mapping usage logs or surveys, or exports in the user's landing folder."""
    found = []
    config_file = _path(env, "PRODUCTOPS_CONFIG", REPO_ROOT / "productops.toml")
    if config_file.is_file():
        try:
            with config_file.open("rb") as fh:
                sections = set(tomllib.load(fh))
        except tomllib.TOMLDecodeError:
            sections = {"usage"}  # unreadable: it is the user's, and loading it will say why
        if sections & {"usage", "usage_files", "surveys"}:
            found.append(f"file sources mapped in {config_file}")
    landing = _path(env, "PRODUCTOPS_LANDING_DIR", REPO_ROOT / "landing")
    for folder in ("usage", "surveys"):
        if (landing / folder).is_dir() and any(p.is_file() for p in (landing / folder).rglob("*")):
            found.append(f"{folder} files in {landing / folder}")
    return tuple(found)


def engine_settings(env: Mapping[str, str]) -> EngineSettings:
    """`PRODUCTOPS_ENGINE` (default duckdb), checked with the URL or folder it needs."""
    from ingestion.config_schema import check_engine  # pydantic, as for the file

    checked = check_engine(
        engine=env.get(ENGINE_VARIABLE, "").strip().lower() or DEFAULT_ENGINE,
        postgres_url=env.get(POSTGRES_URL_VARIABLE, "").strip() or None,
        spark_dir=env.get(SPARK_DIR_VARIABLE, "").strip() or None,
    )
    return EngineSettings(
        name=checked.engine,
        postgres_url=Secret(checked.postgres_url) if checked.postgres_url else None,
        spark_dir=_path(env, SPARK_DIR_VARIABLE, Path()) if checked.spark_dir else None,
    )


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from `PRODUCTOPS_*` variables and the TOML file.

    The bundled demo organisation (generated under `PRODUCTOPS_DEMO_DIR`,
    default `demo/`) runs only when asked for (`PRODUCTOPS_DEMO=1`, which
    `productops run --demo` sets) or when nothing at all is configured: any
    live source, a configuration file mapping usage logs or surveys, or
    exports in the landing folder turn it off, and then `PRODUCTOPS_SALT` is
    required.
    """
    env = os.environ if env is None else env
    demo_dir = _path(env, "PRODUCTOPS_DEMO_DIR", DEFAULT_DEMO_DIR)
    asked = env.get(DEMO_VARIABLE, "").strip().lower() in ("1", "true", "yes")
    # Asked for, the demo reads only its own recordings, whatever else is set.
    live = {} if asked else _live_sources(env)
    file_sources = () if asked else _file_sources(env)
    demo_mode = asked or not (live or file_sources)
    demo_reason = None
    if demo_mode:
        demo_reason = "asked for with --demo" if asked else "nothing is configured"

    config_file = _path(
        env,
        "PRODUCTOPS_CONFIG",
        demo_dir / "productops.toml" if demo_mode else REPO_ROOT / "productops.toml",
    )
    config: dict[str, Any] = {}
    if config_file.exists():
        with config_file.open("rb") as fh:
            try:
                config = tomllib.load(fh)
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"{config_file}: {exc}") from exc
        from ingestion.config_schema import check_config  # pydantic: only once there is a file

        check_config(config, config_file)
    pipeline = config.get("pipeline", {})

    salt = env.get("PRODUCTOPS_SALT")
    if not salt:
        if not demo_mode:
            configured = ", ".join([*live, *file_sources])
            raise ConfigError(
                f"PRODUCTOPS_SALT must be set outside the demo (configured: {configured}): "
                "it keys the pseudonymous person and respondent ids"
            )
        salt = DEMO_SALT

    default_landing = demo_dir / "landing" if demo_mode else REPO_ROOT / "landing"
    default_seeds = demo_dir / "seeds" if demo_mode else REPO_ROOT / "seeds"
    return Settings(
        warehouse=_path(env, "PRODUCTOPS_WAREHOUSE", DEFAULT_WAREHOUSE),
        published=_path(env, "PRODUCTOPS_PUBLISHED", DEFAULT_PUBLISHED),
        landing_dir=_path(env, "PRODUCTOPS_LANDING_DIR", default_landing),
        seeds_dir=_path(env, "PRODUCTOPS_SEEDS_DIR", default_seeds),
        demo_dir=demo_dir,
        demo_mode=demo_mode,
        salt=Secret(salt),
        rejected_share_threshold=_share(pipeline, "rejected_share_threshold", 0.01),
        rejected_min_count=_rejected_min_count(pipeline),
        volume_max_drop=_share(pipeline, "volume_max_drop", 0.5),
        volume_min_rows=_count(pipeline, "volume_min_rows", 100),
        freshness_hours=_freshness_hours(pipeline),
        anonymity_threshold=int(pipeline.get("anonymity_threshold", 5)),
        overlap_minutes=int(pipeline.get("overlap_minutes", 60)),
        usage=UsageMapping(**config.get("usage", {})),
        surveys=tuple(SurveyMapping.from_dict(s) for s in config.get("surveys", [])),
        config_file=config_file if config_file.exists() else None,
        demo_reason=demo_reason,
        file_sources=file_sources,
        engine=engine_settings(env),
        **live,
    )
