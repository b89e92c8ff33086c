"""`productops report` on the demo's published marts: one HTML file with every chart of every
dashboard page, that opens with no network (no script, style or font fetched from a URL)."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from dashboard.data import ORG, PublishedMarts
from dashboard.model import Filters, add_months, available_months, default_end, parse_period, teams
from dashboard.report import build_report
from dashboard.views import PAGES

REPO = Path(__file__).resolve().parent.parent
URL = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)
CSS_URL = re.compile(r"""(@import\s+(url\()?|url\()\s*['"]?\s*(https?:)?//""", re.IGNORECASE)


class Resources(HTMLParser):
    """What a browser would fetch to show the page: scripts, stylesheets, fonts, images."""

    def __init__(self) -> None:
        super().__init__()
        self.fetched: list[str] = []
        self.inline_scripts = 0
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "script":
            if attr.get("src"):
                self.fetched.append(attr["src"])
            else:
                self.inline_scripts += 1
        if tag == "link" and attr.get("href"):
            self.fetched.append(attr["href"])
        if tag in ("img", "iframe", "source") and attr.get("src"):
            self.fetched.append(attr["src"])
        self._in_style = tag == "style"
        if attr.get("style"):
            self.styles.append(attr["style"])

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False if tag == "style" else self._in_style

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def _filters(marts: PublishedMarts, team: str) -> Filters:
    months = available_months(marts)
    start, end = parse_period(None, months, default_end(marts, months))
    return Filters(team, teams(marts)[team], start, end)


@pytest.fixture(scope="module")
def team_report(published_demo, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "payments.html"
    proc = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "report", "--team", "payments", "--out", str(out)],
        cwd=REPO,
        env=published_demo.env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"report written to {out}" in proc.stdout
    return out


def test_the_report_holds_every_chart_of_every_page(team_report, published_demo):
    text = team_report.read_text(encoding="utf-8")
    marts = PublishedMarts(published_demo.published)
    filters = _filters(marts, "payments")
    for module in PAGES:
        page = module.build(marts, filters)
        assert f'id="{module.URL_PATH}"' in text, module.TITLE
        assert f"<h2>{page.title}</h2>".replace("&", "&amp;") in text
        for chart in page.charts:
            # The chart's container and the Plotly call that draws it into that container.
            assert f'data-chart="{chart.key}"' in text, chart.key
            assert re.search(rf'Plotly\.newPlot\(\s*"chart-{chart.key}"', text), chart.key
        for tile in page.tiles:
            assert f'<div class="value">{tile.value}</div>' in text, (module.TITLE, tile.label)


def test_the_report_shows_the_marts_target_statuses_and_open_alerts(team_report, published_demo):
    text = team_report.read_text(encoding="utf-8")
    marts = PublishedMarts(published_demo.published)
    end = _filters(marts, "payments").end
    # eNPS against its target: the latest complete wave begun by the month's end, queried here.
    (status,) = marts.frame(
        "select status from kpi_status where team_id = 'payments' and kpi = 'enps' and is_complete "
        "and period_start < ? order by period_start desc limit 1",
        [add_months(end, 1)],
    )["status"]
    words = {"on_target": "On target", "at_risk": "At risk", "off_target": "Off target", "no_data": "No data"}
    tile = re.search(r'<div class="label">eNPS</div>.*?</div></div>', text, re.S)
    assert tile and f'<div class="status {status}">' in tile[0] and words[status] in tile[0]
    alerts = marts.frame("select rule from kpi_alerts where team_id = 'payments'")
    if alerts.empty:
        assert "No open alerts." in text
    else:
        assert f"<h3>Open alerts ({len(alerts)})</h3>" in text
        assert all(f"<td>{rule}</td>" in text for rule in alerts["rule"])


def test_the_report_fetches_nothing_from_the_network(team_report):
    text = team_report.read_text(encoding="utf-8")
    resources = Resources()
    resources.feed(text)
    assert resources.fetched == []  # every script and style is inline
    assert resources.inline_scripts > len(PAGES)  # plotly.js itself, then one per chart
    assert not [s for s in resources.styles if CSS_URL.search(s)]
    assert "@font-face" not in " ".join(resources.styles)
    # And no remote reference of any kind in an attribute a browser loads from.
    assert not re.search(
        r"""<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=\s*["']?(https?:)?//""", text, re.I
    )
    # plotly.js is inlined whole: the file carries its own charting library.
    assert "plotly.js v" in text or "plotly.js" in text[:20000]


def test_an_organisation_report_and_bad_arguments(published_demo, tmp_path):
    marts = PublishedMarts(published_demo.published)
    text = build_report(marts, None, None)
    assert "Product Ops report · Organisation (all teams)" in text
    # The organisation's satisfaction shows every team, a suppressed wave as hidden, never as 0.
    frame = marts.frame(
        "select count(*) as n from satisfaction_by_wave where is_suppressed and team_id <> ?", [ORG]
    )
    if frame["n"].iloc[0]:
        assert "hidden: fewer than" in text
    with pytest.raises(ValueError, match=r"not in marts\.dim_teams"):
        build_report(marts, "no-such-team", None)
    with pytest.raises(ValueError, match="expected YYYY-MM"):
        build_report(marts, None, "last quarter")


def test_the_publish_step_leaves_its_run_record_beside_the_marts(published_demo):
    """The Data health page's source: the publishing run's gates and sources, beside the marts."""
    import json

    beside = PublishedMarts(published_demo.published).run_record()
    cli_record = json.loads((published_demo.warehouse.parent / "logs" / "last_run.json").read_text())
    assert beside["run_id"] == cli_record["run_id"]
    assert beside["published_rows"] == cli_record["published_rows"]
    # Every gate and dbt test of the run, as the CLI recorded them at its end.
    assert sorted((g["asset"], g["check"], g["passed"]) for g in beside["gates"]) == sorted(
        (g["asset"], g["check"], g["passed"]) for g in cli_record["gates"]
    )
    assert {s["source"] for s in beside["sources"]} == {s["source"] for s in cli_record["sources"]}
