"""The README's advice for readers holds: what a long-lived process must do to see a new publish."""

from __future__ import annotations

import duckdb
import pytest

from orchestration.publishing import publish_marts


def _publish(version: int, tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("create schema if not exists marts")
        con.execute(f"create or replace table marts.items as select {version} as version")
        publish_marts(con, tmp_path / "published" / "productops.duckdb")
    return tmp_path / "published" / "productops.duckdb"


def test_a_new_connection_reads_the_new_run_while_an_open_one_keeps_the_old(tmp_path):
    published = _publish(1, tmp_path)
    held = duckdb.connect(str(published), read_only=True)
    try:
        _publish(2, tmp_path)
        # The path is a link the publish moved: a new connection resolves it to the new file.
        with duckdb.connect(str(published), read_only=True) as again:
            assert again.execute("select version from marts.items").fetchall() == [(2,)]
            # Another configuration is refused while a connection to that file is open.
            with pytest.raises(duckdb.ConnectionException, match="different configuration"):
                duckdb.connect(str(published), read_only=True, config={"threads": 1})
        # An in-memory database attaching the file sees it as it is now.
        with duckdb.connect() as fresh:
            fresh.execute(f"attach '{published}' as pub (read_only)")
            fresh.execute("use pub")
            assert fresh.execute("select version from marts.items").fetchall() == [(2,)]
        # Parquet reads open the files at each query.
        parquet = published.parent / "items.parquet"
        assert duckdb.sql(f"select version from '{parquet}'").fetchall() == [(2,)]
        # The open connection stays on the run it opened, whole.
        assert held.execute("select version from marts.items").fetchall() == [(1,)]
    finally:
        held.close()
