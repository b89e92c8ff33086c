"""Shared fixtures: a small demo organisation and an isolated pipeline environment."""

from __future__ import annotations

import importlib.machinery
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from ingestion.config import PIPELINE_VARIABLES
from orchestration.env_file import NO_ENV_FILE

# A developer's own `.env` (live credentials, other paths) must never reach a test or the
# runs it starts: `productops` skips the file when this is set; the .env test unsets it.
os.environ[NO_ENV_FILE] = "1"

# An xdist worker's __main__ (execnet's `python -c`) has neither __spec__ nor __file__, which
# pyspark.sql.connect (the spark extra) takes for a doctest run: it calls sys.exit(0) on import
# when its optional Connect packages are missing, and Great Expectations imports it whenever
# pyspark is installed. A spec named "__main__" ends that guess and changes nothing else:
# multiprocessing's spawn skips re-importing a main module of that name, as it does today
# (a __file__ would not do: spawned children would try to run it).
_main = sys.modules["__main__"]
if getattr(_main, "__spec__", None) is None and not hasattr(_main, "__file__"):
    _main.__spec__ = importlib.machinery.ModuleSpec("__main__", None)

# Tests run on the embedded default and an ephemeral Dagster instance.
PIPELINE_VARS = PIPELINE_VARIABLES

REPO = Path(__file__).resolve().parent.parent
DEMO_RUN_DATE = date(2026, 11, 20)
DEMO_SCALE = 0.3


@pytest.fixture(scope="session")
def demo_org(tmp_path_factory) -> Path:
    """A small demo organisation, generated once per test session."""
    from ingestion.demo import generate

    out = tmp_path_factory.mktemp("demo")
    generate(out, scale=DEMO_SCALE, seed=7, run_date=DEMO_RUN_DATE)
    return out


@pytest.fixture
def pipeline_env(monkeypatch, tmp_path, demo_org) -> dict[str, Path]:
    """Environment for one pipeline run on the demo, writing under tmp_path."""
    for name in PIPELINE_VARS:
        monkeypatch.delenv(name, raising=False)
    paths = {
        "demo": demo_org,
        "warehouse": tmp_path / "warehouse" / "productops.duckdb",
        "published": tmp_path / "warehouse" / "published" / "productops.duckdb",
    }
    monkeypatch.setenv("PRODUCTOPS_DEMO_DIR", str(demo_org))
    monkeypatch.setenv("PRODUCTOPS_WAREHOUSE", str(paths["warehouse"]))
    monkeypatch.setenv("PRODUCTOPS_PUBLISHED", str(paths["published"]))
    monkeypatch.setenv("DO_NOT_TRACK", "1")
    return paths


@dataclass
class DemoRun:
    """One finished `productops run` on the demo, as a subprocess saw it."""

    env: dict[str, str]
    warehouse: Path
    published: Path
    home: Path
    stdout: str
    stderr: str


def demo_run_env(root: Path, demo: Path, **extra: str) -> dict[str, str]:
    """The environment of a pipeline subprocess writing under `root` (own Dagster instance)."""
    home = root / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    env = {k: v for k, v in os.environ.items() if k not in PIPELINE_VARS and not k.startswith("PRODUCTOPS_")}
    env.update(
        PRODUCTOPS_DEMO_DIR=str(demo),
        PRODUCTOPS_WAREHOUSE=str(root / "warehouse" / "productops.duckdb"),
        PRODUCTOPS_PUBLISHED=str(root / "warehouse" / "published" / "productops.duckdb"),
        DAGSTER_HOME=str(home),
        DO_NOT_TRACK="1",
        **extra,
    )
    return env


@pytest.fixture(scope="session")
def published_demo(tmp_path_factory, demo_org) -> DemoRun:
    """The demo pipeline run once per test session (per xdist worker): read its published
    file, never write it. Tests that need their own run make one with `demo_run_env`."""
    root = tmp_path_factory.mktemp("published_demo")
    env = demo_run_env(root, demo_org)
    proc = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return DemoRun(
        env=env,
        warehouse=Path(env["PRODUCTOPS_WAREHOUSE"]),
        published=Path(env["PRODUCTOPS_PUBLISHED"]),
        home=Path(env["DAGSTER_HOME"]),
        stdout=proc.stdout,
        stderr=proc.stderr,
    )


@pytest.fixture(scope="session")
def postgres_cluster():
    """A throwaway PostgreSQL server on a free loopback port, started once per session.

    Each xdist worker is its own session, so each gets its own cluster (and port); only
    workers that run a test asking for it pay the ~1.5 s start-up. Missing server binaries
    fail the test: a skip would hide that CI cannot test PostgreSQL.
    """
    from tests.postgres_cluster import PostgresCluster, PostgresUnavailable

    try:
        cluster = PostgresCluster()
    except PostgresUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_cluster) -> str:
    """libpq URL of the session's PostgreSQL server (superuser `postgres`, database `postgres`)."""
    return postgres_cluster.url
