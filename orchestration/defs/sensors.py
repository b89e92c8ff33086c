"""Sensors: new files in the landing folder start a run; a failed run raises an alert.

Nothing here reads settings or secrets at import time: the landing folder and
the webhook URL are looked up when a sensor is evaluated, in the daemon's
environment.
"""

import hashlib
import json
import logging
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import dagster as dg
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ingestion.config import ConfigError, load_settings
from orchestration.defs.jobs import ALL_JOB_NAME
from orchestration.run_record import failed_steps, gate_results

LANDING_SENSOR_NAME = "productops_landing_files"
FAILURE_SENSOR_NAME = "productops_failure_alert"
LANDING_FOLDERS = ("surveys", "usage")
WEBHOOK_VAR = "PRODUCTOPS_ALERT_WEBHOOK_URL"
UI_URL_VAR = "PRODUCTOPS_UI_URL"
SETTLE_VAR = "PRODUCTOPS_LANDING_SETTLE_SECONDS"
DEFAULT_SETTLE_SECONDS = 30
# Names that file transfers use while a file is still being written.
PARTIAL_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".filepart", "~")

# -- landing folder ---------------------------------------------------------------


def landing_fingerprint(landing_dir: Path, settle_seconds: float, now: float | None = None) -> dict:
    """{relative path: [size, mtime_ns]} of every finished file under surveys/ and usage/.

    Hidden files, names that transfers use for partial files, and files
    modified in the last `settle_seconds` (probably still being copied) are
    left for a later tick.
    """
    now = time.time() if now is None else now
    files: dict[str, list[int]] = {}
    for folder in LANDING_FOLDERS:
        base = landing_dir / folder
        if not base.is_dir():
            continue
        for path in base.rglob("*"):
            relative = path.relative_to(landing_dir)
            if any(part.startswith(".") for part in relative.parts):
                continue
            if path.name.endswith(PARTIAL_SUFFIXES) or not path.is_file():
                continue
            stat = path.stat()
            if now - stat.st_mtime < settle_seconds:
                continue
            files[relative.as_posix()] = [stat.st_size, stat.st_mtime_ns]
    return files


def changed_files(previous: Mapping[str, list[int]], current: Mapping[str, list[int]]) -> list[str]:
    """Files that are new or whose size or modification time changed; deletions start nothing."""
    return sorted(path for path, mark in current.items() if list(previous.get(path, [])) != list(mark))


def _settle_seconds() -> float:
    raw = os.environ.get(SETTLE_VAR, "").strip()
    if not raw:
        return DEFAULT_SETTLE_SECONDS
    try:
        return max(0.0, float(raw))
    except ValueError as exc:
        raise ConfigError(f"{SETTLE_VAR}={raw!r} is not a number of seconds") from exc


@dg.sensor(
    name=LANDING_SENSOR_NAME,
    job_name=ALL_JOB_NAME,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description=(
        "Starts the pipeline when survey exports or usage logs land (new, or changed in size or "
        "modification time) in <PRODUCTOPS_LANDING_DIR>/surveys or /usage. A file modified in the "
        f"last {DEFAULT_SETTLE_SECONDS} s ({SETTLE_VAR}) waits for the next tick."
    ),
)
def landing_files_sensor(context: dg.SensorEvaluationContext):
    try:
        landing_dir = load_settings().landing_dir
        settle = _settle_seconds()
    except ConfigError as exc:
        return dg.SkipReason(f"configuration error: {exc}")
    previous = json.loads(context.cursor) if context.cursor else {}
    current = landing_fingerprint(landing_dir, settle)
    changed = changed_files(previous, current)
    cursor = json.dumps(current, sort_keys=True, separators=(",", ":"))
    if not changed:
        return dg.SensorResult(skip_reason=f"no new or changed files in {landing_dir}", cursor=cursor)
    # The same set of file versions never starts two runs, even if the cursor is lost.
    digest = hashlib.sha256(json.dumps({p: current[p] for p in changed}, sort_keys=True).encode())
    context.log.info("%d new or changed files in %s: %s", len(changed), landing_dir, ", ".join(changed[:10]))
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"landing-{digest.hexdigest()[:20]}",
                tags={
                    "productops/trigger": "landing",
                    "productops/changed_files": str(len(changed)),
                },
            )
        ],
        cursor=cursor,
    )


# -- failure alerts -----------------------------------------------------------------


class AlertDeliveryError(RuntimeError):
    """The webhook did not take the alert. The message never contains the URL (it is a secret)."""


def failure_report(run: dg.DagsterRun, events: Iterable, ui_url: str | None = None) -> str:
    """A short, plain-text account of a failed run: failed steps and failed gates."""
    events = list(events)
    trigger = (
        run.tags.get("dagster/schedule_name")
        or run.tags.get("dagster/sensor_name")
        or run.tags.get("productops/trigger")
        or "manual"
    )
    lines = [f"Product Ops Warehouse: run {run.run_id[:8]} of {run.job_name} failed (trigger: {trigger})."]
    steps = failed_steps(events)
    failed_gates = [g for g in gate_results(events) if g.outcome == "failed"]
    if failed_gates:
        lines.append("Failed gates:")
        lines.extend(
            f"• {g.asset} {g.check}" + (f": {g.description}" if g.description else "")
            for g in failed_gates[:10]
        )
        if len(failed_gates) > 10:
            lines.append(f"• … and {len(failed_gates) - 10} more")
    if steps:
        lines.append("Failed steps:")
        lines.extend(f"• {s.step}: {s.error}" for s in steps[:10])
    if not steps and not failed_gates:
        lines.append("No step failed: the run itself failed (see the run's logs).")
    lines.append("Published marts were left unchanged.")
    if ui_url:
        lines.append(f"{ui_url.rstrip('/')}/runs/{run.run_id}")
    return "\n".join(lines)


@contextmanager
def _urllib3_silenced() -> Iterator[None]:
    """urllib3 logs retries and request lines with the URL's path, which holds the webhook's token."""
    names = [n for n in logging.Logger.manager.loggerDict if n.split(".")[0] == "urllib3"]
    loggers = [logging.getLogger(name) for name in {"urllib3.connectionpool", "urllib3.util.retry", *names}]

    def drop(record: logging.LogRecord) -> bool:
        return False

    for logger in loggers:
        logger.addFilter(drop)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(drop)


def post_alert(url: str, text: str, timeout: float = 10.0) -> None:
    """POST a Slack incoming-webhook body ({"text": ...}); retries 429 and 5xx briefly."""
    retry = Retry(
        total=2,
        backoff_factor=0.5,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"POST"}),
        raise_on_status=False,
    )
    host = urlsplit(url).hostname or "?"
    with requests.Session() as session, _urllib3_silenced():
        session.mount("http://", HTTPAdapter(max_retries=retry))
        session.mount("https://", HTTPAdapter(max_retries=retry))
        try:
            response = session.post(url, json={"text": text}, timeout=timeout)
        except requests.RequestException as exc:
            # requests' messages include the URL, which carries the webhook's token.
            raise AlertDeliveryError(f"alert webhook at {host} unreachable ({type(exc).__name__})") from None
    if response.status_code >= 300:
        raise AlertDeliveryError(f"alert webhook at {host} answered HTTP {response.status_code}")


@dg.run_failure_sensor(
    name=FAILURE_SENSOR_NAME,
    minimum_interval_seconds=30,
    # On by default: an alert nobody turned on is no alert.
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        f"Reports every failed run of this code location: a log line, and a POST to {WEBHOOK_VAR} "
        f'when set (Slack incoming-webhook JSON {{"text": ...}}). {UI_URL_VAR} adds a link to the run.'
    ),
)
def failure_alert_sensor(context: dg.RunFailureSensorContext):
    run = context.dagster_run
    records = context.instance.all_logs(
        run.run_id,
        of_type={dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.ASSET_CHECK_EVALUATION},
    )
    events = [record.dagster_event for record in records if record.dagster_event]
    text = failure_report(run, events, os.environ.get(UI_URL_VAR))
    # The tick's log: the daemon prints it and the UI shows it under the sensor.
    context.log.error(text)
    url = os.environ.get(WEBHOOK_VAR, "").strip()
    if url:
        post_alert(url, text)
        context.log.info("alert posted to the webhook at %s", urlsplit(url).hostname)
