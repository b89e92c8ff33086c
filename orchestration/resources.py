"""The warehouse resource: settings resolved at run time, one writer at a time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb

from ingestion.config import Settings, load_settings


class WarehouseResource(dg.ConfigurableResource):
    """Where the pipeline writes, and the sources it reads.

    Settings come from the environment and the TOML file when a run starts
    (never at import time), so credentials stay in the environment.
    """

    def settings(self) -> Settings:
        return load_settings()

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        path = self.settings().warehouse
        path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(path))
        try:
            yield con
        finally:
            con.close()
