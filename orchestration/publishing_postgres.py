"""Publish the marts on PostgreSQL: a fresh schema, swapped in as `published` in one transaction.

dbt builds the marts in schema `marts`, which readers never read: a failed or
half-done build there is invisible to them. Publishing copies every mart into a
new schema `published_new_<stamp>` (with dbt's descriptions as table and column
comments, and the read grants readers had on the old `published`), then in ONE
transaction locks the old published tables, renames `published` away and the new
schema to `published`, and commits. A reader's statement thus sees every table
of the old set or every table of the new one, never a mix: the exclusive locks
make a statement that already holds one old table finish before the swap, and a
statement that waited on a lock re-resolves its table names after it (PostgreSQL
does so when the catalog changed while it waited).

A long reader must not hang the run: the swap and the drop of the old schema wait
at most `LOCK_TIMEOUT` for their locks, and the swap is retried `SWAP_ATTEMPTS`
times with a growing pause, after which the publish fails and readers keep the
old set. An old schema a reader still holds is left and dropped by the next
publish. The lock timeout is shorter than PostgreSQL's default deadlock timeout
(1 s), so the swap, never a reader, is what gives way if the two ever wait on
each other.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

MARTS_SCHEMA = "marts"
PUBLISHED_SCHEMA = "published"
NEW_PREFIX = "published_new_"
OLD_PREFIX = "published_old_"
LOCK_TIMEOUT = "900ms"
SWAP_ATTEMPTS = 8
RETRY_PAUSE_SECONDS = 0.5  # doubled after each failed attempt, at most MAX_PAUSE_SECONDS
MAX_PAUSE_SECONDS = 8.0
APPLICATION_NAME = "productops-publish"

log = logging.getLogger("orchestration.progress")


class PublishError(RuntimeError):
    """The marts could not be published; readers keep the previous set."""


@dataclass(frozen=True)
class PublishedSchema:
    schema: str
    rows: dict[str, int]
    dropped_old: bool


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    """A string literal for utility statements (COMMENT ON takes no bound parameters)."""
    return "'" + text.replace("'", "''") + "'"


@contextmanager
def _connect(url: str) -> Iterator:
    import psycopg

    con = psycopg.connect(url, application_name=APPLICATION_NAME)
    try:
        yield con
    finally:
        con.close()


def mart_tables(con, schema: str = MARTS_SCHEMA) -> list[str]:
    with con.cursor() as cur:
        cur.execute(
            "select table_name from information_schema.tables"
            " where table_schema = %s and table_type = 'BASE TABLE' order by table_name",
            [schema],
        )
        return [r[0] for r in cur.fetchall()]


def _schemas_like(cur, prefix: str) -> list[str]:
    cur.execute("select nspname from pg_namespace where starts_with(nspname, %s) order by 1", [prefix])
    return [r[0] for r in cur.fetchall()]


def _reader_grants(cur) -> tuple[list[str], list[str]]:
    """Roles with USAGE on the published schema, and roles with SELECT on its tables."""
    cur.execute(
        """
        select distinct case when a.grantee = 0 then 'public' else a.grantee::regrole::text end
        from pg_namespace as n, aclexplode(n.nspacl) as a
        where n.nspname = %s and a.privilege_type = 'USAGE' and a.grantee <> n.nspowner
        """,
        [PUBLISHED_SCHEMA],
    )
    usage = [r[0] for r in cur.fetchall()]
    cur.execute(
        """
        select distinct case when a.grantee = 0 then 'public' else a.grantee::regrole::text end
        from pg_class as c
        join pg_namespace as n on n.oid = c.relnamespace,
        aclexplode(c.relacl) as a
        where n.nspname = %s and a.privilege_type = 'SELECT' and a.grantee <> c.relowner
        """,
        [PUBLISHED_SCHEMA],
    )
    select = [r[0] for r in cur.fetchall()]
    return usage, select


def _build_new_schema(con, schema: str, tables: list[str]) -> dict[str, int]:
    """Every mart copied into `schema`, comments and readers' grants included (committed)."""
    rows: dict[str, int] = {}
    with con.cursor() as cur:
        cur.execute(f"create schema {_ident(schema)}")
        # When it was published, for readers (orchestration.published.published_at).
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        cur.execute(f"comment on schema {_ident(schema)} is {_literal(stamp)}")
        for table in tables:
            source, copy = f"{_ident(MARTS_SCHEMA)}.{_ident(table)}", f"{_ident(schema)}.{_ident(table)}"
            # Column comments and NOT NULL come with LIKE; the table's comment is set below.
            cur.execute(f"create table {copy} (like {source} including comments including constraints)")
            cur.execute(f"insert into {copy} select * from {source}")
            rows[table] = cur.rowcount
            cur.execute("select obj_description(%s::regclass, 'pg_class')", [source])
            description = cur.fetchall()[0][0]
            if description is not None:
                cur.execute(f"comment on table {copy} is {_literal(description)}")
            cur.execute(f"analyze {copy}")
        usage, select = _reader_grants(cur)
        for role in usage:
            cur.execute(f"grant usage on schema {_ident(schema)} to {role}")
        for role in select:
            cur.execute(f"grant select on all tables in schema {_ident(schema)} to {role}")
    con.commit()
    return rows


def _swap(con, new_schema: str, old_schema: str) -> bool:
    """`published` becomes `new_schema` in one transaction; False when a lock was not granted in time."""
    from psycopg import errors

    try:
        with con.cursor() as cur:
            cur.execute(f"set local lock_timeout = '{LOCK_TIMEOUT}'")
            old_tables = mart_tables(con, PUBLISHED_SCHEMA)
            if old_tables:
                listed = ", ".join(f"{_ident(PUBLISHED_SCHEMA)}.{_ident(t)}" for t in old_tables)
                cur.execute(f"lock table {listed} in access exclusive mode")
            cur.execute("select 1 from pg_namespace where nspname = %s", [PUBLISHED_SCHEMA])
            if cur.fetchall():
                cur.execute(f"alter schema {_ident(PUBLISHED_SCHEMA)} rename to {_ident(old_schema)}")
            cur.execute(f"alter schema {_ident(new_schema)} rename to {_ident(PUBLISHED_SCHEMA)}")
        con.commit()
        return True
    except (errors.LockNotAvailable, errors.DeadlockDetected):
        con.rollback()
        return False


def _drop_schemas(con, schemas: list[str]) -> bool:
    """Drop each schema (and its tables) unless a reader still holds one; True when all went."""
    from psycopg import errors

    dropped = True
    for schema in schemas:
        try:
            with con.cursor() as cur:
                cur.execute(f"set local lock_timeout = '{LOCK_TIMEOUT}'")
                cur.execute(f"drop schema if exists {_ident(schema)} cascade")
            con.commit()
        except (errors.LockNotAvailable, errors.DeadlockDetected):
            con.rollback()
            dropped = False
            log.info("publish: schema %s is still being read; the next publish drops it", schema)
    return dropped


def publish_schema(
    url: str,
    tables: list[str] | None = None,
    *,
    attempts: int = SWAP_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> PublishedSchema:
    """Copy the marts (all of schema marts, or `tables`) into a new schema and swap it in as
    `published`. Nothing readers see changes unless the swap commits."""
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime()) + "_" + uuid.uuid4().hex[:6]
    new_schema, old_schema = f"{NEW_PREFIX}{stamp}", f"{OLD_PREFIX}{stamp}"
    with _connect(url) as con:
        with con.cursor() as cur:
            # Left by a publish that crashed before its swap, or by one whose old set was being read.
            leftovers = _schemas_like(cur, NEW_PREFIX) + _schemas_like(cur, OLD_PREFIX)
        con.commit()
        _drop_schemas(con, leftovers)
        tables = sorted(tables) if tables is not None else mart_tables(con)
        missing = sorted(set(tables) - set(mart_tables(con)))
        if missing:
            raise PublishError(f"not published: schema {MARTS_SCHEMA} has no table {', '.join(missing)}")
        try:
            rows = _build_new_schema(con, new_schema, tables)
            pause = RETRY_PAUSE_SECONDS
            for attempt in range(1, attempts + 1):
                if _swap(con, new_schema, old_schema):
                    break
                if attempt == attempts:
                    raise PublishError(
                        f"not published: readers held schema {PUBLISHED_SCHEMA} through {attempts} "
                        f"attempts (lock timeout {LOCK_TIMEOUT} each); readers keep the previous marts"
                    )
                log.info("publish: readers hold schema %s; swap retried in %.1fs", PUBLISHED_SCHEMA, pause)
                sleep(pause)
                pause = min(pause * 2, MAX_PAUSE_SECONDS)
        except BaseException:
            con.rollback()
            _drop_schemas(con, [new_schema])
            raise
        dropped = _drop_schemas(con, [old_schema])
    return PublishedSchema(schema=PUBLISHED_SCHEMA, rows=rows, dropped_old=dropped)
