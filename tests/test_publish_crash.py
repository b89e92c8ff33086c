"""A publish killed at any moment leaves the old set (DuckDB file and Parquet files) or
the new one, never a mix.

A real child process publishes version after version of 12 marts; the test kills it
with SIGKILL at several moments and reads what a reader would find.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import duckdb

from tests.conftest import REPO

TABLES = 12

PUBLISHER = r"""
import sys, duckdb
from pathlib import Path
from orchestration.publishing import publish_marts

warehouse, target, first, tables = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
con = duckdb.connect(warehouse)
con.execute("create schema if not exists marts")
version = first
while True:
    for i in range(tables):
        con.execute(
            f"create or replace table marts.t{i:02d} as "
            f"select {version} as version, range as id, md5(range::varchar) as filler from range(60000)"
        )
    publish_marts(con, target)
    print(version, flush=True)
    version += 1
"""


def read_set(folder) -> set[int]:
    """The versions a reader finds across every mart's stable paths, DuckDB and Parquet."""
    versions = set()
    with duckdb.connect(str(folder / "productops.duckdb"), read_only=True) as con:
        for i in range(TABLES):
            path = folder / f"t{i:02d}.parquet"
            rows = duckdb.sql(f"select distinct version from '{path}'").fetchall()
            rows += con.execute(f"select distinct version from marts.t{i:02d}").fetchall()
            versions |= {v for (v,) in rows}
    return versions


def test_a_publish_killed_midway_leaves_one_whole_set(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    target = tmp_path / "published" / "productops.duckdb"
    first = 1
    seen_versions = []
    for delay in (0.0, 0.15, 0.4, 0.8, 1.3):
        child = subprocess.Popen(
            [sys.executable, "-c", PUBLISHER, str(warehouse), str(target), str(first), str(TABLES)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            done = int(child.stdout.readline())  # one whole publish first
            time.sleep(delay)
            os.kill(child.pid, signal.SIGKILL)
            child.wait(10)
        finally:
            child.kill()
        versions = read_set(target.parent)
        # The complete last one, or the one after it if it finished before the kill: one version.
        assert len(versions) == 1, versions
        (version,) = versions
        assert version >= done
        seen_versions.append(version)
        link = os.readlink(target.parent / "current")
        assert sorted(p.name for p in (target.parent / link).iterdir()) == [
            "productops.duckdb",
            *(f"t{i:02d}.parquet" for i in range(TABLES)),
        ]
        first = version + 100  # the next child's versions tell its sets apart
    assert seen_versions == sorted(seen_versions)
    # Half-written sets of killed publishes are cleared by the next publish: at most the
    # current set, the previous one and one killed mid-write remain.
    assert len(list(target.parent.glob(".published-*"))) <= 3
