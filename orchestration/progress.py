"""Progress of a run as it goes, for `productops run`: stages, gates and dbt counts.

The connectors and the loader already log each source's pages and rows; this
listens to the run's Dagster events and adds what happens between them: each
gate's verdict, how far `dbt build` has got, and the publish step. It moves the
heartbeat from stage to stage, so a quiet stretch still gets a line that says
what the run is doing, and it writes every Dagster event, stack traces
included, to the run log instead of the terminal.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import IO, Any

from orchestration.heartbeat import Heartbeat
from orchestration.run_record import error_line

log = logging.getLogger("productops.progress")

DBT_STEP = "productops_dbt"
PUBLISH_STEP = "published__productops"
RAW_SUFFIX, GATES_SUFFIX = "_raw", "_raw_gates"
# A blocking check's step fails with this error; the gate lines already say why.
CHECK_FAILED_ERROR = "DagsterAssetCheckFailedError"


class RunProgress:
    """A Dagster event listener (`instance.add_event_listener`) that logs progress lines."""

    def __init__(self, dbt_models: int, heartbeat: Heartbeat | None = None, run_log: IO[str] | None = None):
        self.dbt_models = dbt_models
        self.heartbeat = heartbeat
        self.run_log = run_log
        self.built = 0
        # dbt tests by unique id: the ones Dagster maps to asset checks and the singular
        # tests over several models, which dagster-dbt reports as observations instead.
        self.tests: dict[str, bool] = {}
        self.gates_passed = 0
        self.gates_failed = 0
        self.failed_steps: list[str] = []
        self.events = 0
        self._stage("start", lambda: f"Dagster is recording the run's plan ({self.events} events so far)")

    def __call__(self, entry: Any) -> None:
        self.events += 1
        self._write_to_run_log(entry)
        event = entry.dagster_event if entry.is_dagster_event else None
        if event is None:
            return
        handler = getattr(self, f"_on_{event.event_type_value.lower()}", None)
        if handler:
            handler(event)

    @property
    def tests_passed(self) -> int:
        return sum(self.tests.values())

    @property
    def tests_failed(self) -> int:
        return len(self.tests) - self.tests_passed

    # -- the run log ------------------------------------------------------------------
    def _write_to_run_log(self, entry: Any) -> None:
        """Every Dagster event, one line each, with the error and its stack trace on failures."""
        if self.run_log is None:
            return
        event = entry.dagster_event if entry.is_dagster_event else None
        when = datetime.fromtimestamp(entry.timestamp, UTC).strftime("%H:%M:%S")
        kind = event.event_type_value if event else "LOG"
        level = logging.getLevelName(entry.level) if isinstance(entry.level, int) else str(entry.level)
        self.run_log.write(f"{when} {level:<7} dagster {entry.step_key or '-'} {kind}: {entry.message}\n")
        error = None
        if event is not None and event.is_step_failure:
            error = event.step_failure_data.error
        elif event is not None and event.event_type_value in ("PIPELINE_FAILURE", "RUN_FAILURE"):
            error = getattr(event.event_specific_data, "error", None)
        if error is not None:
            self.run_log.write(error.to_string() + "\n")
        self.run_log.flush()

    # -- stages for the heartbeat -----------------------------------------------------
    def _stage(self, name: str, describe) -> None:
        if self.heartbeat is not None:
            self.heartbeat.stage(name, describe)

    def _on_step_start(self, event: Any) -> None:
        step = event.step_key or ""
        if step == DBT_STEP:
            if self.gates_passed or self.gates_failed:
                log.info("[gates] %d raw-layer gates passed, %d failed", self.gates_passed, self.gates_failed)
            log.info("[dbt] building %d models and seeds, each followed by its tests", self.dbt_models)
            self._stage("dbt", self.dbt_counts)
        elif step == PUBLISH_STEP:
            log.info("[publish] every gate passed: publishing the marts")
            self._stage("publish", lambda: "copying the marts to the published file and Parquet")
        elif step.endswith(GATES_SUFFIX):
            source = step[: -len(GATES_SUFFIX)]
            self._stage(
                "gates",
                lambda: (
                    f"validating the {source} batch; {self.gates_passed} gates passed, "
                    f"{self.gates_failed} failed so far"
                ),
            )
        elif step.endswith(RAW_SUFFIX):
            source = step[: -len(RAW_SUFFIX)]
            if self.heartbeat is not None:
                self.heartbeat.latest_ingestion_line = ""
            self._stage("extract", lambda: self._extract_counts(source))

    # -- events ------------------------------------------------------------------------
    def _on_asset_materialization(self, event: Any) -> None:
        if event.step_key == DBT_STEP:
            self.built += 1

    def _on_asset_observation(self, event: Any) -> None:
        if event.step_key != DBT_STEP:
            return
        metadata = event.asset_observation_data.asset_observation.metadata
        unique_id = str(getattr(metadata.get("unique_id"), "value", metadata.get("unique_id")) or "")
        status = str(getattr(metadata.get("status"), "value", metadata.get("status")) or "")
        if unique_id.startswith("test."):
            self.tests[unique_id] = status == "pass"
            if status in ("fail", "error"):
                log.error("[dbt] test %s failed", unique_id.split(".")[2])

    def _on_asset_check_evaluation(self, event: Any) -> None:
        data = event.asset_check_evaluation_data
        if event.step_key == DBT_STEP:
            unique_id = data.metadata.get("unique_id")
            key = str(getattr(unique_id, "value", unique_id) or f"{data.asset_key}:{data.check_name}")
            self.tests[key] = bool(data.passed)
            if not data.passed:
                level = logging.WARNING if data.severity.value == "WARN" else logging.ERROR
                log.log(level, "[dbt] test %s on %s failed", data.check_name, data.asset_key.to_user_string())
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

    def _on_step_failure(self, event: Any) -> None:
        self.failed_steps.append(event.step_key or "?")
        error = event.step_failure_data.error
        if error is not None and error.cls_name == CHECK_FAILED_ERROR:
            return  # the [gate] line above already said which gate and why
        message = error_line(error.message if error else event.message)
        log.error("[failed] %s: %s", event.step_key, message)

    def _on_step_skipped(self, event: Any) -> None:
        if self.failed_steps or self.gates_failed:
            log.warning("[skipped] %s: an upstream step or gate failed", event.step_key)
        else:  # the dbt step found nothing new since the published build
            log.info("[skipped] %s: nothing new to publish", event.step_key)

    def _on_engine_event(self, event: Any) -> None:
        # Another run (the schedule, a sensor) holds the warehouse: say why nothing moves.
        if "blocked by limit for pool" in (event.message or ""):
            log.info("[waiting] %s: %s (another run is writing the warehouse)", event.step_key, event.message)
            self._stage("waiting", lambda: "for the warehouse: another run holds pool duckdb")

    def _on_pipeline_failure(self, event: Any) -> None:
        # Steps below a failed one never start.
        failed = ", ".join(self.failed_steps) or "the run"
        log.error("[stopped] %s failed: nothing downstream of it ran.", failed)

    _on_run_failure = _on_pipeline_failure

    def _extract_counts(self, source: str) -> str:
        latest = self.heartbeat.latest_ingestion_line if self.heartbeat else ""
        return f"{source}: reading and landing" + (f"; so far {latest}" if latest else "")

    # -- dbt counts --------------------------------------------------------------------
    def dbt_counts(self) -> str:
        """Counts so far; the dbt step itself logs the final tally from dbt's run results."""
        if not self.built and not self.tests:
            return f"starting dbt build (0/{self.dbt_models} models built)"
        failed = f", {self.tests_failed} failed" if self.tests_failed else ""
        return f"{self.built}/{self.dbt_models} models built, {self.tests_passed} tests passed{failed} so far"
