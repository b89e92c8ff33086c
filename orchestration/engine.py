"""The engine a run builds the marts on: its dbt target, how raw data reaches it, how it publishes.

Every engine lands and gates in the local DuckDB raw layer first (staging); then
the engine's `ship` makes its own raw schema equal to that layer (nothing on
duckdb, where staging is the warehouse), dbt builds with the engine's target,
and `publish` hands the marts to readers atomically. Readers open the engine's
published marts through `orchestration.published`.

Engines register here (`register`); each keeps its heavy imports inside its
functions so that choosing DuckDB never imports a Postgres or Spark client.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb

from ingestion.config import ENGINES, Settings

# ship(settings, staging connection, raw tables or None for all) -> rows shipped by table
ShipFn = Callable[[Settings, duckdb.DuckDBPyConnection, "list[str] | None"], dict[str, int]]
# publish(settings, warehouse connection, mart tables) -> rows published by table
PublishFn = Callable[[Settings, duckdb.DuckDBPyConnection, list[str]], dict[str, int]]
# Extra environment of the dbt process on this engine (connection fields, the salt).
DbtEnvFn = Callable[[Settings], dict[str, str]]


@dataclass(frozen=True)
class Engine:
    name: str
    dbt_target: str
    publish: PublishFn
    ship: ShipFn | None = None  # None: dbt reads the staging raw layer itself
    dbt_env: DbtEnvFn | None = None
    # What the Dagster UI shows as the kinds of the shipped and published assets.
    kinds: frozenset[str] = field(default_factory=frozenset)
    # Where readers find the published marts, for log lines (never a secret).
    describe_published: Callable[[Settings], str] = lambda s: str(s.published)


_REGISTRY: dict[str, Engine] = {}


def register(engine: Engine) -> Engine:
    if engine.name not in ENGINES:
        raise ValueError(f"unknown engine {engine.name!r}: add it to ingestion.config.ENGINES")
    _REGISTRY[engine.name] = engine
    return engine


def engine_for(settings: Settings) -> Engine:
    """The engine the settings name (PRODUCTOPS_ENGINE, or `productops run --engine`)."""
    name = settings.engine.name
    if name not in _REGISTRY:
        from ingestion.config import ConfigError

        ready = ", ".join(sorted(_REGISTRY))
        raise ConfigError(f"PRODUCTOPS_ENGINE={name} is not available in this build (engines: {ready})")
    return _REGISTRY[name]


def registered() -> list[str]:
    return sorted(_REGISTRY)


# -- duckdb: the warehouse file is the engine; publish copies it to readers' file and Parquet.


def _publish_duckdb(settings: Settings, con: duckdb.DuckDBPyConnection, tables: list[str]) -> dict[str, int]:
    from orchestration.publishing import publish_marts

    return publish_marts(con, settings.published, tables).rows


register(Engine(name="duckdb", dbt_target="default", publish=_publish_duckdb, kinds=frozenset({"duckdb"})))


# -- postgres: raw tables shipped by COPY, marts built in schema marts, published by a schema swap.


def _ship_postgres(
    settings: Settings, con: duckdb.DuckDBPyConnection, tables: list[str] | None
) -> dict[str, int]:
    from ingestion.destinations.postgres import ship_raw

    return ship_raw(con, postgres_url(settings), tables)


def _publish_postgres(
    settings: Settings, con: duckdb.DuckDBPyConnection, tables: list[str]
) -> dict[str, int]:
    from orchestration.publishing_postgres import publish_schema

    return publish_schema(postgres_url(settings), tables).rows


def _postgres_dbt_env(settings: Settings) -> dict[str, str]:
    """The postgres target's connection fields, the password as a dbt secret, the salt and
    the as-of date as session settings (orchestration/dbt_setup.py)."""
    from orchestration.dbt_setup import AS_OF_VARIABLE, dbt_env, postgres_dbt_env

    as_of = os.environ.get(AS_OF_VARIABLE) or dbt_env(settings).get(AS_OF_VARIABLE)
    return postgres_dbt_env(postgres_url(settings), settings.salt.value, as_of)


def postgres_url(settings: Settings) -> str:
    if settings.engine.postgres_url is None:
        from ingestion.config import ConfigError

        raise ConfigError("PRODUCTOPS_ENGINE=postgres needs PRODUCTOPS_POSTGRES_URL")
    return settings.engine.postgres_url.value


def _postgres_published(settings: Settings) -> str:
    from orchestration.publishing_postgres import PUBLISHED_SCHEMA

    return f"schema {PUBLISHED_SCHEMA} on {settings.engine.where}"


register(
    Engine(
        name="postgres",
        dbt_target="postgres",
        publish=_publish_postgres,
        ship=_ship_postgres,
        dbt_env=_postgres_dbt_env,
        kinds=frozenset({"postgres"}),
        describe_published=_postgres_published,
    )
)


# -- spark: raw tables shipped as Parquet versions, marts built by dbt-spark (session method on
# local pyspark), published as a Spark snapshot and the same reader files as on duckdb.


def _ship_spark(
    settings: Settings, con: duckdb.DuckDBPyConnection, tables: list[str] | None
) -> dict[str, int]:
    from ingestion.destinations.spark import check_spark_available, ship_raw

    check_spark_available()  # before anything reaches the engine's folder
    return ship_raw(con, settings.spark_dir, tables)


def _spark_dbt_env(settings: Settings) -> dict[str, str]:
    # profiles.yml's spark target keeps its metastore, warehouse and raw layer under this folder;
    # Spark's driver binds loopback only.
    return {"PRODUCTOPS_SPARK_DIR": str(settings.spark_dir), "SPARK_LOCAL_IP": "127.0.0.1"}


def _publish_spark(settings: Settings, con: duckdb.DuckDBPyConnection, tables: list[str]) -> dict[str, int]:
    from orchestration.publishing_spark import publish_spark_marts

    return publish_spark_marts(settings.spark_dir, settings.published, tables, _spark_dbt_env(settings)).rows


register(
    Engine(
        name="spark",
        dbt_target="spark",
        publish=_publish_spark,
        ship=_ship_spark,
        dbt_env=_spark_dbt_env,
        kinds=frozenset({"spark", "parquet"}),
    )
)
