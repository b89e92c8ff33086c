"""A killed run never blocks the next one; SIGINT/SIGTERM end a run within seconds.

Real `productops run` processes, real signals, a real Dagster instance on disk.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from orchestration import run_guard
from tests.conftest import REPO, demo_run_env


class RunProcess:
    """`productops run` as a child process whose stderr lines arrive as they are written."""

    def __init__(self, env: dict[str, str], command: str = "run"):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "orchestration.cli", command],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self.started = time.monotonic()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line)

    def wait_for(self, text: str, timeout: float = 300) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return time.monotonic()
            if self.proc.poll() is not None:
                time.sleep(0.2)  # the reader may still be draining
                if any(text in line for line in self.lines):
                    return time.monotonic()
                raise AssertionError(f"exited {self.proc.returncode} before {text!r}:\n{self.text[-3000:]}")
            time.sleep(0.05)
        raise AssertionError(f"no {text!r} within {timeout}s:\n{self.text[-3000:]}")

    @property
    def text(self) -> str:
        return "".join(self.lines)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _instance(home: Path):
    import dagster as dg

    return dg.DagsterInstance.from_config(str(home))


def _status(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "status"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _hold_pool(home: Path) -> str:
    """A live run (this test process) holding the duckdb pool slot, as a run of `dagster dev` would."""
    import dagster as dg
    from dagster._core.storage.dagster_run import DagsterRun

    run_id = str(uuid.uuid4())
    with _instance(home) as instance:
        instance.event_log_storage.set_concurrency_slots("duckdb", 1)
        instance.add_run(
            DagsterRun(
                job_name="holder",
                run_id=run_id,
                status=dg.DagsterRunStatus.STARTED,
                tags=run_guard.process_tags(),
            )
        )
        claim = instance.event_log_storage.claim_concurrency_slot("duckdb", run_id, "holder_step")
        assert claim.is_claimed
    return run_id


def test_a_killed_run_does_not_block_the_next(tmp_path, demo_org):
    env = demo_run_env(tmp_path, demo_org, PRODUCTOPS_WAIT_SECONDS="120")
    first = RunProcess(env)
    first.wait_for("[extract]")
    # Inside the run: a step holds the pool slot.
    home = Path(env["DAGSTER_HOME"])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with _instance(home) as instance:
            if instance.event_log_storage.get_concurrency_info("duckdb").active_run_ids:
                break
        time.sleep(0.2)
    else:
        pytest.fail("the first run never claimed its pool slot")
    time.sleep(2)
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait(10)
    killed_at = time.monotonic()

    status = _status(env)
    assert status.returncode == 1, status.stdout + status.stderr
    assert "FAILURE" in status.stdout and "process is gone" in status.stdout, status.stdout

    second = RunProcess(env)
    # It lands without waiting for the killed run's slot (tests/test_reruns.py runs one to the end).
    landing = second.wait_for(" rows landed, ", timeout=300)
    print(f"kill -9 to the next run landing: {landing - killed_at:.1f}s")
    assert "[waiting]" not in second.text  # `status` above already reaped the killed run
    second.proc.send_signal(signal.SIGTERM)
    assert second.proc.wait(15) == run_guard.EXIT_INTERRUPTED, second.text[-4000:]


def test_waiting_has_a_bound_and_names_the_holder(tmp_path, demo_org):
    env = demo_run_env(tmp_path, demo_org, PRODUCTOPS_WAIT_SECONDS="3")
    holder = _hold_pool(Path(env["DAGSTER_HOME"]))
    run = RunProcess(env)
    assert run.proc.wait(180) == run_guard.EXIT_WAIT_TIMEOUT, run.text[-3000:]
    assert f"held by run {holder[:8]} (pid {os.getpid()})" in run.text, run.text[-3000:]
    assert "PRODUCTOPS_WAIT_SECONDS" in run.text
    # The holder's process (this one) is alive: status says so and reaps nothing.
    status = _status(env)
    assert f"Run {holder[:8]} is running: process {os.getpid()} is alive." in status.stdout, status.stdout


@pytest.mark.parametrize("signo", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_ends_a_waiting_run(tmp_path, demo_org, signo):
    env = demo_run_env(tmp_path, demo_org, PRODUCTOPS_WAIT_SECONDS="600")
    _hold_pool(Path(env["DAGSTER_HOME"]))
    run = RunProcess(env)
    run.wait_for("[waiting]", timeout=180)
    run_id = None
    with _instance(Path(env["DAGSTER_HOME"])) as instance:
        pending = instance.event_log_storage.get_concurrency_info("duckdb").pending_steps
        run_id = next(step.run_id for step in pending if step.step_key != "holder_step")
    sent = time.monotonic()
    run.proc.send_signal(signo)
    assert run.proc.wait(15) == run_guard.EXIT_INTERRUPTED
    assert time.monotonic() - sent < 10
    with _instance(Path(env["DAGSTER_HOME"])) as instance:
        assert instance.get_run_by_id(run_id).status.value == "CANCELED"
        pending = instance.event_log_storage.get_concurrency_info("duckdb").pending_steps
        assert run_id not in {step.run_id for step in pending}


def test_sigterm_during_dbt_ends_the_run_and_dbt(tmp_path, demo_org):
    env = demo_run_env(tmp_path, demo_org)
    run = RunProcess(env)
    run.wait_for("[dbt] building", timeout=400)
    deadline = time.monotonic() + 30
    children: list[int] = []
    while time.monotonic() < deadline and not children:
        children = run_guard.descendants(run.proc.pid)
        time.sleep(0.1)
    assert children, "dbt runs as a child process"
    sent = time.monotonic()
    run.proc.send_signal(signal.SIGTERM)
    assert run.proc.wait(15) == run_guard.EXIT_INTERRUPTED, run.text[-3000:]
    assert time.monotonic() - sent < 10
    time.sleep(0.5)
    assert [pid for pid in children if run_guard.process_alive(pid)] == []
    assert "[stopped]" in run.text


def test_process_state_of_run_tags():
    tags = run_guard.process_tags()
    assert run_guard.run_process_state(tags) == "alive"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert run_guard.run_process_state({**tags, run_guard.PID_TAG: str(dead.pid)}) == "gone"
    # The pid reused by another process: its start time differs.
    assert run_guard.run_process_state({**tags, run_guard.PROCESS_START_TAG: "1"}) == "gone"
    assert run_guard.run_process_state({}) == "unknown"


def test_kill_9_of_the_run_ends_its_dbt_child(tmp_path, demo_org):
    """dbt must not write the warehouse after the run that started it died."""
    env = demo_run_env(tmp_path, demo_org)
    run = RunProcess(env)
    run.wait_for("[dbt] building", timeout=400)
    deadline = time.monotonic() + 60
    dbt: list[int] = []
    while time.monotonic() < deadline and not dbt:
        dbt = [pid for pid in run_guard.descendants(run.proc.pid) if b"dbt" in _cmdline(pid)]
        time.sleep(0.1)
    assert dbt, "no dbt child seen"
    time.sleep(2)  # dbt has started writing
    run.proc.send_signal(signal.SIGKILL)
    run.proc.wait(10)
    killed = time.monotonic()
    # dbt may still be starting (it loads the plugin that ties it to its parent): give it time.
    while time.monotonic() - killed < 30 and any(run_guard.process_alive(pid) for pid in dbt):
        time.sleep(0.05)
    assert not any(run_guard.process_alive(pid) for pid in dbt)
    print(f"dbt ended {time.monotonic() - killed:.1f}s after the kill -9 of its run")
