"""The dbt project as Dagster sees it, and the environment dbt runs with.

`PRODUCTOPS_WAREHOUSE` and `PRODUCTOPS_SEEDS_DIR` are read by both sides:
`profiles.yml` and `dbt_project.yml` take them from the environment, and the
pipeline sets them from its settings before dbt starts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from dagster_dbt import DbtProject

from ingestion.config import REPO_ROOT, Settings

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def dbt_executable() -> str:
    """The `dbt` next to this interpreter, so a venv works without activation."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


AS_OF_VARIABLE = "PRODUCTOPS_AS_OF"


def as_of_date(settings: Settings | None = None) -> str:
    """The run's as-of date (ISO): PRODUCTOPS_AS_OF, else the demo's run date on the
    demo (its history ends just before it), else today in UTC.

    Every time-relative column of the marts is computed against it, so two runs
    with the same data and as-of date build identical marts. `productops run`
    pins it in its environment for the whole run; runs without it (the daemon's)
    use dbt's current date.
    """
    value = os.environ.get(AS_OF_VARIABLE, "").strip()
    if not value:
        demo_date = demo_as_of_date(settings) if settings is not None else None
        return demo_date or datetime.now(UTC).date().isoformat()
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        from ingestion.config import ConfigError

        raise ConfigError(f"{AS_OF_VARIABLE} must be a date (YYYY-MM-DD), not {value!r}") from None


def dbt_env(settings: Settings) -> dict[str, str]:
    """Variables the dbt process needs; the salt goes to dbt's plugin, not to SQL."""
    env = {
        "PRODUCTOPS_WAREHOUSE": str(settings.warehouse),
        "PRODUCTOPS_SEEDS_DIR": str(settings.seeds_dir),
        "PRODUCTOPS_SALT": settings.salt.value,
        "PRODUCTOPS_ANONYMITY_THRESHOLD": str(settings.anonymity_threshold),
        "DO_NOT_TRACK": "1",
        # dbt dies with the process that starts it (orchestration/dbt_salt.py).
        "PRODUCTOPS_DBT_PARENT_PID": str(os.getpid()),
    }
    # The demo's date never goes stale, so it is pinned for any run (the Dagster UI's too);
    # a live run's date is pinned by `productops run` alone, never in a long-lived process.
    if demo_as_of_date(settings) and not os.environ.get(AS_OF_VARIABLE):
        env[AS_OF_VARIABLE] = as_of_date(settings)
    return env


def demo_as_of_date(settings: Settings) -> str | None:
    """The demo's run date: its history ends just before it, and its marts are built as of it."""
    if not settings.demo_mode:  # live runs: today, or PRODUCTOPS_AS_OF as set by the user
        return None
    try:
        summary = json.loads((settings.demo_dir / "generator.json").read_text())
    except (OSError, ValueError):
        return None
    return summary.get("run_date")


def apply_dbt_env(settings: Settings) -> None:
    os.environ.update(dbt_env(settings))


def _newest_source_mtime() -> float:
    newest = 0.0
    for folder in ("models", "macros", "tests", "seeds"):
        for path in (DBT_PROJECT_DIR / folder).rglob("*"):
            if path.is_file():
                newest = max(newest, path.stat().st_mtime)
    for name in ("dbt_project.yml", "profiles.yml"):
        newest = max(newest, (DBT_PROJECT_DIR / name).stat().st_mtime)
    return newest


def ensure_manifest() -> Path:
    """Parse the dbt project when its manifest is missing or older than its files.

    `DbtProject.prepare_if_dev()` only parses under `dagster dev`; the CLI,
    tests and CI need a manifest too, and `dbt parse` takes a few seconds.
    The parse reads the header-only seed templates in `dbt_project/seeds/`:
    the asset graph depends on the seeds' names, not on their rows, and the
    organisation's own seed folder may not exist yet.
    """
    manifest = dbt_project.manifest_path
    if manifest.exists() and manifest.stat().st_mtime >= _newest_source_mtime():
        return manifest
    env = {**os.environ, "PRODUCTOPS_SEEDS_DIR": str(DBT_PROJECT_DIR / "seeds"), "DO_NOT_TRACK": "1"}
    result = subprocess.run(
        [
            dbt_executable(),
            "parse",
            "--quiet",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
        ],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"dbt parse failed:\n{result.stdout}\n{result.stderr}")
    return manifest


# -- PostgreSQL target ---------------------------------------------------------------

PG_PASSWORD_VARIABLE = "DBT_ENV_SECRET_PRODUCTOPS_PG_PASSWORD"


def _pg_option(name: str, value: str) -> str:
    """One `-c name=value` of PGOPTIONS: libpq splits on spaces, so spaces and backslashes are escaped."""
    escaped = value.replace("\\", "\\\\").replace(" ", "\\ ")
    return f"-c {name}={escaped}"


def postgres_dbt_env(url: str, salt: str = "", as_of: str | None = None) -> dict[str, str]:
    """The variables profiles.yml's `postgres` target reads, from a libpq URL (or key=value string).

    The password goes only to DBT_ENV_SECRET_PRODUCTOPS_PG_PASSWORD (dbt scrubs it from
    logs); the salt, the run's as-of date and the UTC session time zone go through
    PGOPTIONS as session settings (productops.salt, productops.as_of, TimeZone) that the
    `postgres__` macros read, so none of them is ever written in SQL or target/.
    """
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = conninfo_to_dict(url)
    except Exception as exc:  # psycopg names what is wrong; the URL itself is a secret
        raise ValueError(f"PRODUCTOPS_POSTGRES_URL is not a valid libpq URL: {type(exc).__name__}") from None
    options = [_pg_option("TimeZone", "UTC"), _pg_option("productops.salt", salt)]
    if as_of:
        options.append(_pg_option("productops.as_of", as_of))
    return {
        "PRODUCTOPS_PG_HOST": str(params.get("host") or "127.0.0.1"),
        "PRODUCTOPS_PG_PORT": str(params.get("port") or "5432"),
        "PRODUCTOPS_PG_USER": str(params.get("user") or os.environ.get("USER", "postgres")),
        "PRODUCTOPS_PG_DATABASE": str(params.get("dbname") or params.get("user") or "postgres"),
        "PRODUCTOPS_PG_SSLMODE": str(params.get("sslmode") or "prefer"),
        PG_PASSWORD_VARIABLE: str(params.get("password") or ""),
        "PGOPTIONS": " ".join(options),
    }
