"""A killed run never blocks the next one, and a stopped run stops for real.

`productops run` executes in its own process, so no Dagster daemon watches it:
a run killed with `kill -9` stays STARTED in the instance and keeps its slot
in the `duckdb` pool, and every later run waits for that slot for ever. This
module:

- tags each CLI run with its process (host, pid, process start time), so a
  later start or `productops status` can tell a dead run from a live one and
  mark the dead one failed with its slots freed (`reap_stale_runs`);
- bounds the wait for the pool (`PRODUCTOPS_WAIT_SECONDS`, default 900) and
  names the run that holds it (`PoolWaitBound`);
- ends the run within seconds on SIGINT or SIGTERM, children (dbt) included
  (`StopOnSignal`). Dagster swaps in its own handlers while a run executes,
  only looks at a captured signal between steps (never while a step waits for
  its slot), and a signal that lands in a DuckDB query surfaces as "Query
  interrupted"; so a watcher thread learns of every signal from the wakeup fd
  (`signal.set_wakeup_fd`), whichever Python handler is installed.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("orchestration.run_guard")

PID_TAG = "productops/pid"
HOST_TAG = "productops/host"
PROCESS_START_TAG = "productops/process_start"
WAIT_VARIABLE = "PRODUCTOPS_WAIT_SECONDS"
DEFAULT_WAIT_SECONDS = 900.0
# How long the main thread leaves a stop under way to end the process (it takes seconds).
STOP_GRACE_SECONDS = 30.0
POOL = "duckdb"
EXIT_INTERRUPTED = 130
EXIT_WAIT_TIMEOUT = 4
# Children get this long to end after SIGTERM before SIGKILL.
CHILD_GRACE_SECONDS = 3.0


# -- processes ------------------------------------------------------------------------


def process_start_ticks(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (/proc), so a reused pid is not taken for it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: split after the last ')'.
    return stat.rsplit(")", 1)[1].split()[19]


def process_tags() -> dict[str, str]:
    pid = os.getpid()
    tags = {PID_TAG: str(pid), HOST_TAG: socket.gethostname()}
    start = process_start_ticks(pid)
    if start:
        tags[PROCESS_START_TAG] = start
    return tags


def process_alive(pid: int, start: str | None = None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    if _zombie(pid):  # ended, not yet reaped by its parent
        return False
    if start is None:
        return True
    current = process_start_ticks(pid)
    return current is None or current == start


def descendants(pid: int) -> list[int]:
    """Every live descendant of `pid` (children first), read from /proc; empty where /proc is missing."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def end_processes(pids: list[int], grace: float = CHILD_GRACE_SECONDS) -> None:
    """SIGTERM, then SIGKILL for whatever is still alive after `grace` seconds."""
    for pid in pids:
        with _quiet():
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(process_alive(p) for p in pids):
        time.sleep(0.05)
    for pid in pids:
        if process_alive(pid):
            with _quiet():
                os.kill(pid, signal.SIGKILL)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


class _quiet:
    def __enter__(self):
        return self

    def __exit__(self, *exc: Any) -> bool:
        return exc[0] is not None and issubclass(exc[0], OSError)


# -- stale runs -----------------------------------------------------------------------


def run_process_state(tags: dict[str, str]) -> str:
    """'alive', 'gone' or 'unknown' (not a CLI run, or a run on another host)."""
    pid = tags.get(PID_TAG)
    if not pid or tags.get(HOST_TAG) != socket.gethostname():
        return "unknown"
    return "alive" if process_alive(int(pid), tags.get(PROCESS_START_TAG)) else "gone"


def reap_stale_runs(instance: Any) -> list[str]:
    """Mark failed every unfinished CLI run whose process is gone, and free every slot a finished run holds.

    Returns one line per run reaped, for the caller to print.
    """
    import dagster as dg

    unfinished = [
        dg.DagsterRunStatus.STARTED,
        dg.DagsterRunStatus.STARTING,
        dg.DagsterRunStatus.CANCELING,
        dg.DagsterRunStatus.NOT_STARTED,
    ]
    notes = []
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=unfinished)):
        run = record.dagster_run
        if run_process_state(run.tags) != "gone":
            continue
        message = (
            f"Run {run.run_id[:8]} (pid {run.tags[PID_TAG]}) ended without finishing: its process is gone "
            "(killed or crashed). Marked failed and its pool slot freed."
        )
        instance.report_run_failed(run, message=message)
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        notes.append(message)
    # A slot can outlive its run (a kill between the run's end and the slot's release).
    # Slots of runs this instance does not know are left alone.
    storage = instance.event_log_storage
    if storage.supports_global_concurrency_limits:
        info = storage.get_concurrency_info(POOL)
        for run_id in info.active_run_ids | {step.run_id for step in info.pending_steps}:
            holder = instance.get_run_by_id(run_id)
            if holder is not None and holder.is_finished:
                storage.free_concurrency_slots_for_run(run_id)
    return notes


def pool_holders(instance: Any, exclude: str | None = None) -> list[str]:
    """Who holds the duckdb pool now: 'run 1a2b3c4d (pid 123, started 12:00:01 UTC)'."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return []
    lines = []
    for run_id in dict.fromkeys(s.run_id for s in storage.get_concurrency_info(POOL).claimed_slots):
        if run_id == exclude:
            continue
        run = instance.get_run_by_id(run_id)
        tags = run.tags if run else {}
        where = f"pid {tags[PID_TAG]}" if PID_TAG in tags else tags.get("dagster/trigger", "Dagster")
        lines.append(f"run {run_id[:8]} ({where})")
    return lines


def wait_seconds() -> float:
    value = os.environ.get(WAIT_VARIABLE, "").strip()
    if not value:
        return DEFAULT_WAIT_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        from ingestion.config import ConfigError

        raise ConfigError(f"{WAIT_VARIABLE} must be a number of seconds, not {value!r}") from None
    return seconds


def _interrupt_class() -> type[BaseException]:
    from dagster._core.errors import DagsterExecutionInterruptedError

    return DagsterExecutionInterruptedError


# What Dagster raises in the main thread when SIGINT/SIGTERM arrive during a run.
ExecutionInterrupted = _interrupt_class()


def interrupted(events: list[Any]) -> bool:
    """Did a step fail because SIGINT/SIGTERM arrived while it ran (Dagster's own interrupt path)?"""
    return any(
        event.is_step_failure
        and event.step_failure_data.error is not None
        and event.step_failure_data.error.cls_name == "DagsterExecutionInterruptedError"
        for event in events
    )


# -- stopping -------------------------------------------------------------------------


class StopOnSignal:
    """SIGINT/SIGTERM (and a wait past its bound) end the run: children ended, run canceled, slots freed."""

    def __init__(self, instance: Any, run_id: str):
        self.instance = instance
        self.run_id = run_id
        self._previous: dict[int, Any] = {}
        self._done = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._read_fd: int | None = None
        self._write_fd: int | None = None
        self._previous_wakeup = -1

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is not threading.main_thread():
            return self  # signals reach the main thread only; its owner handles them
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.getsignal(sig)
            signal.signal(sig, self._on_signal)
        # Whatever Python handler is installed (Dagster swaps its own in while a run
        # executes), the C-level handler writes each signal's number to this pipe.
        self._read_fd, write_fd = os.pipe()
        os.set_blocking(write_fd, False)
        self._write_fd = write_fd
        self._previous_wakeup = signal.set_wakeup_fd(write_fd)
        threading.Thread(target=self._watch_signals, name="productops-stop", daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._stopping.is_set() and threading.current_thread() is threading.main_thread():
            # The watcher is ending the process with EXIT_INTERRUPTED. The interrupted step
            # (a DuckDB query raises "Query interrupted") may fail the run first: the main
            # thread must not go on to report that failure and exit 1 before it does.
            time.sleep(STOP_GRACE_SECONDS)
        self._done.set()
        if self._write_fd is None:
            return
        signal.set_wakeup_fd(self._previous_wakeup)
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        os.close(self._write_fd)  # the watcher sees the end of the pipe and closes its side

    def _on_signal(self, signo: int, _frame: Any) -> None:
        self.stop(f"received {signal.Signals(signo).name}", EXIT_INTERRUPTED)

    def _watch_signals(self) -> None:
        try:
            while not self._done.is_set():
                ready, _, _ = select.select([self._read_fd], [], [], 0.2)
                if not ready:
                    continue
                data = os.read(self._read_fd, 64)
                if not data:
                    return
                for signo in data:
                    if signo in (signal.SIGINT, signal.SIGTERM):
                        self.stop(f"received {signal.Signals(signo).name}", EXIT_INTERRUPTED)
        finally:
            os.close(self._read_fd)

    def stop(self, reason: str, code: int) -> None:
        """End this process now: the work of the run is lost, the warehouse recovers its last commit."""
        if not self._lock.acquire(blocking=False):
            return
        self._stopping.set()
        log.error("[stopped] %s: ending run %s and its child processes", reason, self.run_id[:8])
        end_processes(descendants(os.getpid()))
        # Instance writes from a thread with a bound: a stuck SQLite lock must not keep us alive.
        marker = threading.Thread(target=self._mark_canceled, args=(reason,), daemon=True)
        marker.start()
        marker.join(5.0)
        for handler in logging.getLogger().handlers:
            handler.flush()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

    def _mark_canceled(self, reason: str) -> None:
        try:
            run = self.instance.get_run_by_id(self.run_id)
            if run is not None and not run.is_finished:
                self.instance.report_run_canceled(run, message=f"productops run stopped: {reason}")
            self.instance.event_log_storage.free_concurrency_slots_for_run(self.run_id)
        except Exception as exc:  # the next start reaps it instead
            log.warning("run %s not marked canceled (%s); the next run will reap it", self.run_id[:8], exc)


class PoolWaitBound:
    """A Dagster event listener: a step that waits for the duckdb pool longer than the bound ends the run."""

    def __init__(self, instance: Any, run_id: str, stopper: StopOnSignal, seconds: float):
        self.instance = instance
        self.run_id = run_id
        self.stopper = stopper
        self.seconds = seconds
        self._timer: threading.Timer | None = None

    def __call__(self, entry: Any) -> None:
        event = entry.dagster_event if entry.is_dagster_event else None
        if event is None:
            return
        if event.event_type_value == "ENGINE_EVENT" and "blocked by limit for pool" in (event.message or ""):
            if self._timer is None:
                holders = ", ".join(pool_holders(self.instance, exclude=self.run_id)) or "another run"
                log.warning(
                    "[waiting] the warehouse is in use by %s; waiting up to %.0fs (%s)",
                    holders,
                    self.seconds,
                    WAIT_VARIABLE,
                )
                self._timer = threading.Timer(self.seconds, self._give_up)
                self._timer.daemon = True
                self._timer.start()
        elif event.event_type_value in ("STEP_START", "PIPELINE_SUCCESS", "PIPELINE_FAILURE"):
            self.cancel()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _give_up(self) -> None:
        holders = ", ".join(pool_holders(self.instance, exclude=self.run_id)) or "another run"
        self.stopper.stop(
            f"waited {self.seconds:.0f}s for the warehouse, still held by {holders}. "
            f"Let that run finish (or stop it), then start again; {WAIT_VARIABLE} sets the bound",
            EXIT_WAIT_TIMEOUT,
        )


def check_instance_runs() -> list[str]:
    """For `productops status`: reap dead runs under $DAGSTER_HOME and say which runs are alive."""
    home = os.environ.get("DAGSTER_HOME")
    if not home or not Path(home).is_dir():
        return []
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        notes = reap_stale_runs(instance)
        live = instance.get_run_records(
            filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING])
        )
        for record in live:
            run = record.dagster_run
            state = run_process_state(run.tags)
            if state == "alive":
                notes.append(f"Run {run.run_id[:8]} is running: process {run.tags[PID_TAG]} is alive.")
            else:
                notes.append(
                    f"Run {run.run_id[:8]} is in progress; not started by `productops run` on this host, "
                    "so its process cannot be checked from here."
                )
    return notes
