"""dbt-duckdb plugin: hands the pseudonymisation salt to SQL without writing it anywhere.

The `pseudonymize` macro reads `getvariable('productops_salt')`; this plugin
sets that DuckDB variable on every connection and cursor dbt opens, from the
environment. The salt thus never appears in compiled SQL, dbt logs or
`target/` artefacts.
"""

from __future__ import annotations

import os

from dbt.adapters.duckdb.plugins import BasePlugin

SALT_VARIABLE = "productops_salt"
# The run's as-of date (the `today()` macro); a DuckDB variable rather than a dbt var,
# so a new date never defeats dbt's partial parsing.
AS_OF_VARIABLE = "productops_as_of"


def _set_salt(conn) -> None:
    salt = os.environ.get("PRODUCTOPS_SALT", "")
    conn.execute(f"set variable {SALT_VARIABLE} = ?", [salt])
    as_of = os.environ.get("PRODUCTOPS_AS_OF") or None
    conn.execute(f"set variable {AS_OF_VARIABLE} = cast(? as date)", [as_of])


class Plugin(BasePlugin):
    def configure_connection(self, conn) -> None:
        _set_salt(conn)

    def configure_cursor(self, cursor) -> None:
        _set_salt(cursor)
