"""Time to first render of each dashboard page, in headless Chromium.

    python -m benchmarks.dashboard_render [--published PATH] [--team T] [--rounds N] [--screenshots DIR]

Starts `productops dashboard` on a free port against the published file (default
PRODUCTOPS_PUBLISHED), then opens each page in a fresh browser session and
measures from the request until every chart has drawn and the tiles show. The
first page of the first round also pays for the server's cold start (imports,
first queries); later rounds show the cached figures. Prints a table and
writes benchmarks/output/dashboard-render.json. With --screenshots, the first
round also saves each page as DIR/dashboard-<page>.png (`make screenshots`
writes the README's pictures to docs/images/ this way, on the full demo).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from dashboard.data import PublishedMarts
from dashboard.model import Filters, available_months, default_end, parse_period, teams
from dashboard.views import PAGES, address
from tests.browser import chromium, free_port, save_full_page

OUT = Path(__file__).resolve().parent / "output" / "dashboard-render.json"
PLOTS = '[data-testid="stPlotlyChart"] .js-plotly-plot'


def _serve(published: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "PRODUCTOPS_PUBLISHED": str(published)}
    server = subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "dashboard", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2):
                return server, base
        except OSError:
            time.sleep(0.5)
    os.killpg(server.pid, signal.SIGTERM)
    raise SystemExit("the dashboard did not start within 120 s")


def main() -> int:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from ingestion.config import load_settings

    parser = argparse.ArgumentParser(prog="python -m benchmarks.dashboard_render")
    parser.add_argument("--published", type=Path, default=None)
    parser.add_argument("--team", default=None, help="team id (default: the first team by name)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--screenshots", type=Path, default=None, help="save each page here (first round)")
    args = parser.parse_args()
    published = (args.published or load_settings().published).resolve()
    marts = PublishedMarts(published)
    names = teams(marts)
    team = args.team or list(names)[1]
    months = available_months(marts)
    start, end = parse_period(None, months, default_end(marts, months))
    filters = Filters(team, names[team], start, end)
    expected = {m.URL_PATH: len(m.build(marts, filters).charts) for m in PAGES}
    started = time.monotonic()
    server, base = _serve(published)
    results: dict[str, list[float]] = {m.URL_PATH: [] for m in PAGES}
    try:
        startup = time.monotonic() - started
        for round_number in range(args.rounds):
            for module in PAGES:
                with chromium("1400,1000") as driver:
                    began = time.monotonic()
                    driver.get(f"{base}/{address(module)}?team={team}&period={start:%Y-%m}..{end:%Y-%m}")
                    WebDriverWait(driver, 300, poll_frequency=0.05).until(
                        lambda d, want=expected[module.URL_PATH]: (
                            len(d.find_elements(By.CSS_SELECTOR, PLOTS)) >= want
                            and d.find_elements(By.CSS_SELECTOR, '[data-testid="stMetricValue"]')
                        )
                    )
                    results[module.URL_PATH].append(round(time.monotonic() - began, 2))
                    if args.screenshots and round_number == 0:
                        save_full_page(driver, args.screenshots / f"dashboard-{module.URL_PATH}.png")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    print(
        f"published file: {published} ({published.stat().st_size / 1e6:.1f} MB); team {team}; "
        f"{filters.period_label}; server start {startup:.1f} s"
    )
    print(f"{'page':<14}" + "".join(f"{f'round {i + 1} (s)':>14}" for i in range(args.rounds)))
    for page, seconds in results.items():
        print(f"{page:<14}" + "".join(f"{s:>14.2f}" for s in seconds))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        json.dumps(
            {
                "published": str(published),
                "server_start_seconds": round(startup, 2),
                "team": team,
                "seconds": results,
            },
            indent=2,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
