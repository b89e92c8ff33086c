"""dbt-duckdb plugin: hands the pseudonymisation salt to SQL without writing it anywhere.

The `pseudonymize` macro reads `getvariable('productops_salt')`; this plugin
sets that DuckDB variable on every connection and cursor dbt opens, from the
environment. The salt thus never appears in compiled SQL, dbt logs or
`target/` artefacts. It also ties a dbt process started by Dagster to its
parent's life (`_end_with_parent`).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

from dbt.adapters.duckdb.plugins import BasePlugin

SALT_VARIABLE = "productops_salt"
# The run's as-of date (the `today()` macro); a DuckDB variable rather than a dbt var,
# so a new date never defeats dbt's partial parsing.
AS_OF_VARIABLE = "productops_as_of"
PR_SET_PDEATHSIG = 1
# Set by the process that starts dbt (dbt_setup.dbt_env): a parent that died
# before dbt got this far is noticed too.
PARENT_PID_VARIABLE = "PRODUCTOPS_DBT_PARENT_PID"


def _set_salt(conn) -> None:
    salt = os.environ.get("PRODUCTOPS_SALT", "")
    conn.execute(f"set variable {SALT_VARIABLE} = ?", [salt])
    as_of = os.environ.get("PRODUCTOPS_AS_OF") or None
    conn.execute(f"set variable {AS_OF_VARIABLE} = cast(? as date)", [as_of])


def _end_with_parent() -> None:
    """A `dbt build` started by Dagster ends when the process that started it dies.

    Without this, a `kill -9` of `productops run` left dbt writing the warehouse
    for seconds after, while the next run already wanted it. Linux only
    (prctl PR_SET_PDEATHSIG); elsewhere nothing changes.
    """
    parent = os.environ.get(PARENT_PID_VARIABLE, "")
    if os.environ.get("DAGSTER_DBT_CLI") != "true" or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if parent.isdigit() and os.getppid() != int(parent):  # it died before the call
        os.kill(os.getpid(), signal.SIGKILL)


class Plugin(BasePlugin):
    def initialize(self, plugin_config) -> None:
        _end_with_parent()

    def configure_connection(self, conn) -> None:
        _set_salt(conn)

    def configure_cursor(self, cursor) -> None:
        _set_salt(cursor)
