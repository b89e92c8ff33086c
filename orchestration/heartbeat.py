"""A progress line whenever the terminal has been quiet for a few seconds.

Long steps (loading Dagster and the dbt project, a source's gates, dbt's
start-up) print nothing for tens of seconds on their own. The heartbeat
watches the lines the CLI prints and, after `quiet_seconds` without one, says
which stage the run is in, what it has counted so far and for how long.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("productops.progress")

# Under 5 s between two lines, with room for a busy machine.
QUIET_SECONDS = 3.0


class Heartbeat:
    """Start it with `with Heartbeat() as beat:`; move it on with `beat.stage(...)`."""

    def __init__(self, quiet_seconds: float = QUIET_SECONDS):
        self.quiet_seconds = quiet_seconds
        self._lock = threading.Lock()
        self._name = "start"
        self._describe: Callable[[], str] = lambda: "starting"
        self._stage_started = self._last_line = time.monotonic()
        self.latest_ingestion_line = ""  # the connectors' and loader's own counts so far
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="productops-heartbeat", daemon=True)

    def stage(self, name: str, describe: Callable[[], str]) -> None:
        """The run entered a stage; `describe()` says what it has done so far."""
        with self._lock:
            self._name, self._describe = name, describe
            self._stage_started = time.monotonic()

    def saw_line(self) -> None:
        self._last_line = time.monotonic()

    def filter(self) -> logging.Filter:
        """A handler filter that tells the heartbeat a line went out (it lets every record pass)."""
        heartbeat = self

        class _SawLine(logging.Filter):
            def filter(self, record: logging.LogRecord) -> bool:
                heartbeat.saw_line()
                if record.name.startswith("ingestion"):
                    heartbeat.latest_ingestion_line = record.getMessage()
                return True

        return _SawLine()

    def _beat(self) -> None:
        while not self._stop.wait(0.2):
            if time.monotonic() - self._last_line < self.quiet_seconds:
                continue
            with self._lock:
                name, describe, started = self._name, self._describe, self._stage_started
            try:
                detail = describe()
            except Exception as exc:  # a progress line must never stop a run
                detail = f"(progress unavailable: {exc})"
            self.saw_line()
            log.info("[%s] %s (%.0fs)", name, detail, time.monotonic() - started)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
