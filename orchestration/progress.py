"""Progress of a run as it goes, for `productops run`: stages, gates and dbt counts.

The connectors and the loader already log each source's pages and rows; this
listens to the run's Dagster events and adds what happens between them: each
gate's verdict, how far `dbt build` has got, and the publish step.
"""

from __future__ import annotations

import logging
import time
from typing import Any

log = logging.getLogger("productops.progress")

DBT_STEP = "productops_dbt"
PUBLISH_STEP = "published__productops"
# dbt can run for minutes at scale: one line at most this often while it builds.
DBT_REPORT_EVERY_SECONDS = 5.0


class RunProgress:
    """A Dagster event listener (`instance.add_event_listener`) that logs progress lines."""

    def __init__(self, dbt_models: int):
        self.dbt_models = dbt_models
        self.built = 0
        self.tests_passed = 0
        self.tests_failed = 0
        self.gates_passed = 0
        self.gates_failed = 0
        self._dbt_started = 0.0
        self._last_report = 0.0

    def __call__(self, entry: Any) -> None:
        event = entry.dagster_event if entry.is_dagster_event else None
        if event is None:
            return
        handler = getattr(self, f"_on_{event.event_type_value.lower()}", None)
        if handler:
            handler(event)

    # -- events ------------------------------------------------------------------------
    def _on_step_start(self, event: Any) -> None:
        if event.step_key == DBT_STEP:
            self._dbt_started = self._last_report = time.monotonic()
            if self.gates_passed or self.gates_failed:
                log.info("[gates] %d raw-layer gates passed, %d failed", self.gates_passed, self.gates_failed)
            log.info("[dbt] building %d models and seeds, each followed by its tests", self.dbt_models)
        elif event.step_key == PUBLISH_STEP:
            log.info("[publish] every gate passed: publishing the marts")

    def _on_asset_materialization(self, event: Any) -> None:
        if event.step_key == DBT_STEP:
            self.built += 1
            self._maybe_report()

    def _on_asset_check_evaluation(self, event: Any) -> None:
        data = event.asset_check_evaluation_data
        if event.step_key == DBT_STEP:
            if data.passed:
                self.tests_passed += 1
            else:
                self.tests_failed += 1
                level = logging.WARNING if data.severity.value == "WARN" else logging.ERROR
                log.log(level, "[dbt] test %s on %s failed", data.check_name, data.asset_key.to_user_string())
            self._maybe_report()
            return
        if data.passed:
            self.gates_passed += 1
            log.debug("[gate] passed %s %s", data.asset_key.to_user_string(), data.check_name)
        else:
            self.gates_failed += 1
            log.error(
                "[gate] FAILED %s %s: %s",
                data.asset_key.to_user_string(),
                data.check_name,
                data.description or "",
            )

    def _on_step_success(self, event: Any) -> None:
        if event.step_key == DBT_STEP:
            self._report(done=True)

    def _on_step_failure(self, event: Any) -> None:
        error = event.step_failure_data.error
        message = (error.message if error else "").strip().splitlines()
        log.error("[failed] %s: %s", event.step_key, message[0] if message else "")

    def _on_step_skipped(self, event: Any) -> None:
        log.warning("[skipped] %s: an upstream step or gate failed", event.step_key)

    def _on_engine_event(self, event: Any) -> None:
        # Another run (the schedule, a sensor) holds the warehouse: say why nothing moves.
        if "blocked by limit for pool" in (event.message or ""):
            log.info("[waiting] %s: %s (another run is writing the warehouse)", event.step_key, event.message)

    def _on_pipeline_failure(self, event: Any) -> None:
        # Steps below a failed one never start; Dagster names the failed ones here.
        first = (event.message or "").strip().splitlines()
        log.error("[stopped] %s Nothing downstream ran.", first[0] if first else "the run failed.")

    # -- dbt counts --------------------------------------------------------------------
    def _maybe_report(self) -> None:
        if time.monotonic() - self._last_report >= DBT_REPORT_EVERY_SECONDS:
            self._report()

    def _report(self, done: bool = False) -> None:
        self._last_report = time.monotonic()
        elapsed = self._last_report - self._dbt_started
        log.info(
            "[dbt] %s%d/%d models built, %d tests passed%s (%.0fs)",
            "done: " if done else "",
            self.built,
            self.dbt_models,
            self.tests_passed,
            f", {self.tests_failed} failed" if self.tests_failed else "",
            elapsed,
        )
