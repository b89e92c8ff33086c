"""The Dagster UI, for real: the webserver on a demo run, the asset graph in headless Chromium.

Debian's `chromium` and `chromium-driver` drive the browser (`.ci/run` installs
them). Without them this test fails and says so: a UI nobody looked at is not
tested. Screenshots and the webserver's log go to `test-output/`.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.browser import chromium, free_port
from tests.conftest import demo_run_env

REPO = Path(__file__).resolve().parent.parent
OUTPUT = REPO / "test-output"
LOCATION = "orchestration.definitions"  # `-m orchestration.definitions` names the code location
# Tall enough for the whole marts graph (23 marts) without scrolling.
WINDOW = "2000,6400"


def _wait_for(url: str, timeout: float, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"dagster-webserver exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    pytest.fail(f"{url} did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def webserver(tmp_path_factory, demo_org):
    """A demo run recorded in a fresh instance, and the webserver serving that instance."""
    OUTPUT.mkdir(exist_ok=True)
    root = tmp_path_factory.mktemp("ui")
    env = demo_run_env(root, demo_org)
    home = Path(env["DAGSTER_HOME"])
    # Create the instance's storage before two processes open it at once: both would
    # otherwise migrate a brand-new database together ("more than one head").
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)):
        pass
    port = free_port()
    log = OUTPUT / "dagster-webserver.log"
    with log.open("w") as sink:
        webserver_bin = str(Path(sys.executable).parent / "dagster-webserver")
        server = subprocess.Popen(
            [webserver_bin, "-m", LOCATION, "-h", "127.0.0.1", "-p", str(port)],
            cwd=REPO,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its code server is a child: stop both together
        )
    try:
        # The run goes while the webserver starts; both record in the same instance.
        run = subprocess.run(
            [sys.executable, "-m", "orchestration.cli", "run"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )
        assert run.returncode == 0, run.stderr[-3000:]
        base = f"http://127.0.0.1:{port}"
        _wait_for(f"{base}/server_info", 300, server, log)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)


@pytest.fixture
def browser():
    with chromium(WINDOW) as driver:
        yield driver


def _expected_mart_checks() -> dict[str, int]:
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    marts = [key for key in graph.get_all_asset_keys() if graph.get(key).group_name == "marts"]
    return {key.path[-1]: sum(1 for c in graph.asset_check_keys if c.asset_key == key) for key in marts}


def _checks_per_node(text: str, names: list[str]) -> dict[str, tuple[int, int]]:
    """From the graph's text: each node's name is followed by 'Asset checks' and 'P / N Passed'."""
    lines = [line.strip() for line in text.splitlines()]
    found = {}
    for name in names:
        for i, line in enumerate(lines):
            if line != name:
                continue
            window = lines[i + 1 : i + 8]
            if "Asset checks" not in window:
                continue
            counts = next((re.fullmatch(r"(\d+) / (\d+) Passed", w) for w in window if "Passed" in w), None)
            if counts:
                found[name] = (int(counts[1]), int(counts[2]))
    return found


def test_asset_graph_shows_every_mart_with_its_checks_passed(webserver, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    expected = _expected_mart_checks()
    assert len(expected) == 23 and all(expected.values())
    browser.get(f"{webserver}/locations/{LOCATION}/asset-groups/marts")
    shown: dict[str, tuple[int, int]] = {}

    def every_mart_shown(driver) -> bool:
        nonlocal shown
        shown = _checks_per_node(driver.find_element(By.TAG_NAME, "body").text, list(expected))
        return set(shown) == set(expected) and all(p == n for p, n in shown.values())

    try:
        WebDriverWait(browser, 180, poll_frequency=2).until(every_mart_shown)
    finally:
        browser.save_screenshot(str(OUTPUT / "dagster-asset-graph-marts.png"))
    # Each node shows as many checks as the code location defines for it, all passed.
    assert shown == {name: (count, count) for name, count in expected.items()}
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "Never materialized" not in body


def test_checks_tab_lists_a_marts_checks_by_name(webserver, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    names = sorted(c.name for c in graph.asset_check_keys if c.asset_key.path == ["marts", "delivery_weekly"])
    browser.set_window_size(1600, 1000)
    browser.get(f"{webserver}/assets/marts/delivery_weekly?view=checks")
    try:
        WebDriverWait(browser, 120, poll_frequency=2).until(
            lambda d: f"Checks ({len(names)})" in d.find_element(By.TAG_NAME, "body").text
        )
    finally:
        browser.save_screenshot(str(OUTPUT / "dagster-delivery-weekly-checks.png"))
    body = browser.find_element(By.TAG_NAME, "body").text
    # The list shortens long names in the middle; the selected check shows in full.
    for name in names:
        assert name in body or any(
            line.startswith(name[:10]) and line.endswith(name[-10:]) for line in body.splitlines()
        ), name
    assert "Succeeded" in body or "Passed" in body
