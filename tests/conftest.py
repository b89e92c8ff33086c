"""Shared fixtures: a small demo organisation and an isolated pipeline environment."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ingestion.config import PIPELINE_VARIABLES

# Tests run on the embedded default and an ephemeral Dagster instance.
PIPELINE_VARS = PIPELINE_VARIABLES

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
