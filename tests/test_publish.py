"""Publishing on its own: atomic replacement, readers holding the old file, failures
that leave the published files untouched, and a publish step that refuses to run
outside a run whose gates passed."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ingestion.loader import RawLoader
from ingestion.pages import Page
from orchestration.publishing import (
    PARQUET_COLUMN_DESCRIPTIONS_KEY,
    PARQUET_DESCRIPTION_KEY,
    STORAGE_VERSION,
    publish_marts,
)

HOLDER = r"""
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute("select count(*) from marts.items").fetchall()[0][0], flush=True)
sys.stdin.readline()  # hold the file open until told to look again
print(con.execute("select count(*) from marts.items").fetchall()[0][0], flush=True)
"""

COMMENTS_SQL = """
select c.table_name, c.column_name, t.comment as table_comment, c.comment as column_comment
from duckdb_columns() as c
inner join duckdb_tables() as t using (database_name, schema_name, table_name)
where c.schema_name = 'marts'
order by c.table_name, c.column_index
"""


def fingerprint(folder: Path) -> dict[str, str]:
    """Every entry: a file's digest, a symlink's target, a folder's own fingerprint."""
    entries = {}
    for p in sorted(folder.iterdir()):
        if p.is_symlink():
            entries[p.name] = "-> " + str(p.readlink())
        elif p.is_dir():
            entries[p.name] = str(fingerprint(p))
        else:
            entries[p.name] = hashlib.sha256(p.read_bytes()).hexdigest()
    return entries


@pytest.fixture
def warehouse(tmp_path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "productops.duckdb"))
    con.execute("create schema marts")
    con.execute("create table marts.items as select range as id from range(3)")
    con.execute("create table marts.teams as select 'payments' as team_id")
    yield con
    con.close()


def test_publish_writes_every_mart_and_replaces_the_file_past_a_reader(warehouse, tmp_path):
    target = tmp_path / "published" / "productops.duckdb"
    published = publish_marts(warehouse, target)
    assert published.rows == {"items": 3, "teams": 1}
    assert sorted(p.name for p in target.parent.iterdir() if not p.name.startswith(".")) == [
        "current",
        "items.parquet",
        "parquet",
        "productops.duckdb",
        "teams.parquet",
    ]
    assert duckdb.sql(f"select count(*) from '{target.parent / 'items.parquet'}'").fetchall() == [(3,)]

    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(target)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "3"
        warehouse.execute("insert into marts.items values (3), (4)")
        # The reader's open file is no obstacle: the new copy is renamed over it.
        assert publish_marts(warehouse, target).rows["items"] == 5
        with duckdb.connect(str(target), read_only=True) as fresh:
            assert fresh.execute("select count(*) from marts.items").fetchall() == [(5,)]
        out, _ = holder.communicate("\n", timeout=30)
    finally:
        holder.kill()
    assert out.strip() == "3"  # the held connection still reads the complete old state
    assert holder.returncode == 0


def test_a_failed_publish_leaves_the_published_files_byte_for_byte(warehouse, tmp_path):
    target = tmp_path / "published" / "productops.duckdb"
    publish_marts(warehouse, target)
    before = fingerprint(target.parent)
    warehouse.execute("insert into marts.items values (3)")

    with pytest.raises(duckdb.CatalogException):
        publish_marts(warehouse, target, ["items", "teams", "no_such_mart"])

    assert fingerprint(target.parent) == before  # no temporary file left either


def test_a_published_folder_copied_without_its_symlinks_publishes_again(warehouse, tmp_path):
    target = tmp_path / "published" / "productops.duckdb"
    publish_marts(warehouse, target)
    copy = tmp_path / "copy" / "productops.duckdb"
    shutil.copytree(target.parent, copy.parent)  # follows symlinks: real files and folders
    warehouse.execute("insert into marts.items values (3)")
    publish_marts(warehouse, copy)
    assert (copy.parent / "parquet").is_symlink() and (copy.parent / "items.parquet").is_symlink()
    assert duckdb.sql(f"select count(*) from '{copy.parent / 'items.parquet'}'").fetchall() == [(4,)]


def test_one_link_switches_the_duckdb_file_and_the_parquet_files_together(warehouse, tmp_path):
    target = tmp_path / "published" / "productops.duckdb"
    publish_marts(warehouse, target)
    folder = target.parent
    first_set = os.readlink(folder / "current")
    assert first_set.startswith(".published-")
    assert sorted(p.name for p in (folder / first_set).iterdir()) == [
        "items.parquet",
        "productops.duckdb",
        "teams.parquet",
    ]
    fixed = {
        "productops.duckdb": "current/productops.duckdb",
        "parquet": "current",
        "items.parquet": "parquet/items.parquet",
    }
    assert {name: os.readlink(folder / name) for name in fixed} == fixed

    warehouse.execute("insert into marts.items values (3)")
    publish_marts(warehouse, target)
    # Only `current` moved; the previous set stays for its readers.
    assert {name: os.readlink(folder / name) for name in fixed} == fixed
    assert os.readlink(folder / "current") != first_set and (folder / first_set).is_dir()
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("select count(*) from marts.items").fetchall() == [(4,)]
    publish_marts(warehouse, target)
    assert not (folder / first_set).exists()


def test_the_older_layout_becomes_fixed_links_keeping_its_last_set_for_readers(warehouse, tmp_path):
    """A real DuckDB file and `parquet` the swapped link, as publishes before the one switch left them."""
    folder = tmp_path / "published"
    (folder / ".parquet-old").mkdir(parents=True)
    (folder / ".parquet-older").mkdir()
    warehouse.execute(f"copy marts.items to '{folder / '.parquet-old' / 'items.parquet'}' (format parquet)")
    (folder / "parquet").symlink_to(".parquet-old")
    (folder / "items.parquet").symlink_to("parquet/items.parquet")
    shutil.copy(tmp_path / "productops.duckdb", folder / "productops.duckdb")
    warehouse.execute("insert into marts.items values (3)")

    publish_marts(warehouse, folder / "productops.duckdb")

    assert os.readlink(folder / "productops.duckdb") == "current/productops.duckdb"
    assert os.readlink(folder / "parquet") == "current"
    assert duckdb.sql(f"select count(*) from '{folder / 'items.parquet'}'").fetchall() == [(4,)]
    with duckdb.connect(str(folder / "productops.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from marts.items").fetchall() == [(4,)]
    assert (folder / ".parquet-old").is_dir() and not (folder / ".parquet-older").exists()


def test_temporary_files_of_a_crashed_publish_are_cleared(warehouse, tmp_path):
    target = tmp_path / "published" / "productops.duckdb"
    target.parent.mkdir()
    leftovers = [target.parent / ".productops.duckdb.4242.tmp", target.parent / ".items.parquet.4242.tmp"]
    for path in leftovers:
        path.write_bytes(b"half a file")
    publish_marts(warehouse, target)
    assert not any(path.exists() for path in leftovers)


def test_the_publish_step_refuses_marts_it_did_not_see_built(pipeline_env, demo_org):
    """Materialized on its own (say from the UI after a failed run), the step publishes nothing."""
    from orchestration.defs.publish import MART_KEYS, published_marts
    from orchestration.resources import WarehouseResource

    warehouse = pipeline_env["warehouse"]
    warehouse.parent.mkdir(parents=True)
    with duckdb.connect(str(warehouse)) as con:
        page = Page(locator="usage/a.jsonl")
        page.add(
            "usage_events",
            {
                "event_key": "e1",
                "occurred_at": "2026-11-18T10:00:00+00:00",
                "user_email": "ann@example.com",
                "tool": "notion-app",
                "event": "page_viewed",
                "_source_file": "usage/a.jsonl",
                "_line_number": 1,
            },
        )
        RawLoader(con, "landed-without-gates").land("usage", "events", [page])

    result = dg.materialize(
        [published_marts], resources={"warehouse": WarehouseResource()}, raise_on_error=False
    )

    assert not result.success
    failure = next(event for event in result.all_events if event.is_step_failure)
    message = failure.step_failure_data.user_failure_data.description
    assert message.startswith(
        f"not published; readers keep the last published marts: {len(MART_KEYS)} marts were not built"
    )
    assert message.endswith("raw.usage_events holds 1 rows no gate has passed")
    assert not pipeline_env["published"].exists()


def test_the_published_copy_opens_in_duckdb_1x_with_every_description(warehouse, tmp_path):
    """Storage format and descriptions, on a tiny warehouse: the DuckDB 1.x CLI opens the copy
    and sees the comments; each Parquet file carries them in its key-value metadata."""
    import pyarrow.parquet as pq

    warehouse.execute("comment on table marts.items is 'Grain: one row per item (it''s a test).'")
    warehouse.execute("comment on column marts.items.id is 'The item''s id — unique.'")
    target = tmp_path / "published" / "productops.duckdb"
    publish_marts(warehouse, target)

    with duckdb.connect() as con:
        con.execute(f"attach '{target}' as published (read_only)")
        tags = con.execute("select tags from duckdb_databases() where database_name = 'published'").fetchall()
    assert tags == [({"storage_version": f"{STORAGE_VERSION}+"},)]
    cli = subprocess.run(
        [str(Path(sys.executable).with_name("duckdb")), "-readonly", "-csv", str(target), "-c", COMMENTS_SQL],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert list(csv.reader(io.StringIO(cli.stdout))) == [
        ["table_name", "column_name", "table_comment", "column_comment"],
        ["items", "id", "Grain: one row per item (it's a test).", "The item's id — unique."],
        ["teams", "team_id", "NULL", "NULL"],
    ]

    metadata = pq.read_metadata(target.parent / "items.parquet").metadata
    assert metadata[PARQUET_DESCRIPTION_KEY.encode()].decode() == "Grain: one row per item (it's a test)."
    assert json.loads(metadata[PARQUET_COLUMN_DESCRIPTIONS_KEY.encode()]) == {"id": "The item's id — unique."}
    assert (
        json.loads(
            pq.read_metadata(target.parent / "teams.parquet").metadata[b"productops.column_descriptions"]
        )
        == {}
    )
