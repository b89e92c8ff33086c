"""Runs that are killed, and runs with nothing new, change no published number.

One pipeline environment of its own, on the session's demo organisation:

1. three runs killed with SIGKILL at three stages (landing, dbt, publishing), one after the other;
2. a clean re-run: its marts equal those of the session's uninterrupted run (`published_demo`);
3. a run with no new data: its marts equal the re-run's, value for value, bit for bit.

Mart contents are compared as exact values (floats by their bits). Runs in two environments
differ in the `_loaded_at` bookkeeping of incremental marts (when raw rows were landed), so
steps 1-2 leave it out; step 3 compares every column, `_loaded_at` included: rows the demo
re-reads from its overlap window land unchanged, so they keep their `_loaded_at`.
"""

from __future__ import annotations

import hashlib
import signal
import struct
import time
from pathlib import Path

import duckdb
import pytest

from tests.conftest import demo_run_env
from tests.test_run_guard import RunProcess

BOOKKEEPING = frozenset({"_loaded_at"})


def _exact(value):
    if isinstance(value, float):
        return ("f", struct.pack(">d", value).hex())
    return value


def mart_digests(published: Path, leave_out: frozenset[str] = BOOKKEEPING) -> dict[str, str]:
    """One digest per mart: its rows, sorted, every value exact, the `leave_out` columns aside."""
    digests = {}
    with duckdb.connect(str(published), read_only=True) as con:
        tables = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        for table in tables:
            columns = [
                name
                for (name,) in con.execute(
                    "select column_name from information_schema.columns"
                    " where table_schema = 'marts' and table_name = ? order by ordinal_position",
                    [table],
                ).fetchall()
                if name not in leave_out
            ]
            selected = ", ".join(f'"{c}"' for c in columns)
            rows = con.execute(f"select {selected} from marts.{table} order by all").fetchall()
            exact = repr([tuple(_exact(v) for v in row) for row in rows])
            digests[table] = hashlib.sha256(exact.encode()).hexdigest()
    return digests


def differing(a: dict[str, str], b: dict[str, str]) -> list[str]:
    return sorted(t for t in a.keys() | b.keys() if a.get(t) != b.get(t))


@pytest.fixture(scope="module")
def reference(published_demo) -> dict[str, str]:
    return mart_digests(published_demo.published)


def test_killed_runs_then_a_rerun_then_a_no_change_run(tmp_path, demo_org, reference, published_demo):
    env = demo_run_env(tmp_path, demo_org, PRODUCTOPS_WAIT_SECONDS="120")
    published = Path(env["PRODUCTOPS_PUBLISHED"])
    stages = [
        ("landing", " rows landed, ", 0.0),
        ("dbt", "[dbt] building", 4.0),
        ("publishing", "[publish]", 0.2),
    ]
    for stage, marker, delay in stages:
        run = RunProcess(env)
        try:
            run.wait_for(marker, timeout=900)
            time.sleep(delay)
            run.proc.send_signal(signal.SIGKILL)
            run.proc.wait(30)
        finally:
            run.proc.kill()
        assert run.proc.returncode == -signal.SIGKILL, f"the run ended before the {stage} kill"

    rerun = RunProcess(env)
    assert rerun.proc.wait(1200) == 0, rerun.text[-4000:]
    assert "[recovered]" in rerun.text  # the last killed run was reaped, not waited for
    assert differing(mart_digests(published), reference) == []
    whole_after_crashes = mart_digests(published, leave_out=frozenset())

    no_change = RunProcess(env)
    assert no_change.proc.wait(1200) == 0, no_change.text[-4000:]
    assert differing(mart_digests(published, leave_out=frozenset()), whole_after_crashes) == []
