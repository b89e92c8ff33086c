"""`productops report`: every dashboard page in one self-contained HTML file.

The same pages and charts as the dashboard (`views/`, `charts.py`), written with
plotly.js inlined once and system fonts only: the file opens offline, and can be
attached to an email or posted in a channel.
"""

from __future__ import annotations

import html
import time
from datetime import UTC, datetime
from pathlib import Path

import plotly.io as pio
from plotly.offline import get_plotlyjs

from dashboard.data import ORG, PublishedMarts
from dashboard.model import Filters, Page, Tile, available_months, default_end, parse_period, teams
from dashboard.views import PAGES
from orchestration.scorecard import STATUS_MARK

STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif;
       color: #1f2937; margin: 0; background: #f8fafc; }
header { background: #1e3a8a; color: white; padding: 24px 40px; }
header h1 { margin: 0 0 4px; font-size: 26px; } header p { margin: 0; opacity: .85; }
nav { padding: 10px 40px; background: white; border-bottom: 1px solid #e5e7eb; position: sticky; top: 0; }
nav a { margin-right: 18px; color: #1e3a8a; text-decoration: none; font-weight: 600; }
section { background: white; margin: 24px 40px; padding: 20px 28px; border-radius: 10px;
          box-shadow: 0 1px 3px rgba(0,0,0,.08); }
section h2 { margin-top: 0; } .intro { color: #6b7280; margin-top: -8px; }
.note { background: #fef3c7; border-left: 4px solid #d97706; padding: 8px 12px; margin: 8px 0; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 12px;
         margin: 16px 0; }
.tile { border: 1px solid #e5e7eb; border-radius: 8px; padding: 12px 14px; }
.tile .label { color: #6b7280; font-size: 13px; } .tile .value { font-size: 26px; font-weight: 600; }
.tile .delta { font-size: 13px; font-weight: 600; } .good { color: #059669; } .bad { color: #dc2626; }
.tile .neutral { color: #6b7280; } .tile .beside { color: #6b7280; font-size: 12px; margin-top: 4px; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 8px; } .charts .wide { grid-column: 1 / -1; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0 16px; width: 100%; }
th, td { border-bottom: 1px solid #e5e7eb; padding: 4px 8px; text-align: left; } th { background: #f1f5f9; }
.tile .status { display: inline-block; font-size: 12px; font-weight: 600; border-radius: 10px;
                padding: 1px 8px; margin-top: 6px; }
.status.on_target { background: #d1fae5; color: #065f46; }
.status.at_risk { background: #fef3c7; color: #92400e; }
.status.off_target { background: #fee2e2; color: #991b1b; }
.status.no_data { background: #f1f5f9; color: #475569; }
.tile .target { color: #6b7280; font-size: 12px; }
footer { color: #6b7280; font-size: 12px; margin: 0 40px 32px; }
"""


def _tile(tile: Tile) -> str:
    delta = ""
    if tile.delta:
        up = not tile.delta.startswith("-")
        good = up if tile.delta_color == "normal" else not up
        css = (
            "neutral"
            if tile.delta_color == "off" or tile.delta.lstrip("+-").strip("0.% d") == ""
            else ("good" if good else "bad")
        )
        delta = f'<div class="delta {css}">{"▲" if up else "▼"} {html.escape(tile.delta)}</div>'
    beside = f'<div class="beside">{html.escape(tile.beside)}</div>' if tile.beside else ""
    if tile.status:
        beside += (
            f'<div class="status {tile.status}">{STATUS_MARK[tile.status]} '
            f"{html.escape(tile.status_text.capitalize())}</div>"
            f'<div class="target">{html.escape(tile.target or "")}</div>'
        )
    title = f' title="{html.escape(tile.help)}"' if tile.help else ""
    return (
        f'<div class="tile"{title}><div class="label">{html.escape(tile.label)}</div>'
        f'<div class="value">{html.escape(tile.value)}</div>{delta}{beside}</div>'
    )


def _section(anchor: str, page: Page) -> str:
    parts = [
        f'<section id="{anchor}"><h2>{html.escape(page.title)}</h2>',
        f'<p class="intro">{html.escape(page.intro)}</p>',
    ]
    parts += [f'<div class="note">{html.escape(note)}</div>' for note in page.notes]
    if page.tiles:
        parts.append('<div class="tiles">' + "".join(_tile(t) for t in page.tiles) + "</div>")
    parts.append('<div class="charts">')
    for chart in page.charts:
        figure = pio.to_html(
            chart.figure,
            full_html=False,
            include_plotlyjs=False,
            div_id=f"chart-{chart.key}",
            config={"displaylogo": False, "responsive": True},
        )
        parts.append(
            f'<div class="chart{" wide" if chart.wide else ""}" data-chart="{chart.key}">{figure}</div>'
        )
    parts.append("</div>")
    for table in page.tables:
        parts.append(f"<h3>{html.escape(table.title)}</h3>")
        if table.frame.empty and table.empty:
            parts.append(f'<p class="empty">{html.escape(table.empty)}</p>')
        else:
            parts.append(table.frame.to_html(index=False, na_rep="—", border=0, escape=True))
    parts.append("</section>")
    return "\n".join(parts)


def build_report(marts: PublishedMarts, team: str | None, period: str | None) -> str:
    marts.check()
    names = teams(marts)
    team_id = team or ORG
    if team_id not in names:
        raise ValueError(
            f"team {team!r} is not in marts.dim_teams; teams: {', '.join(t for t in names if t != ORG)}"
        )
    months = available_months(marts)
    start, end = parse_period(period, months, default_end(marts, months))
    filters = Filters(team_id, names[team_id], start, end)
    sections = [(module, module.build(marts, filters)) for module in PAGES]
    generated = datetime.now(UTC)
    nav = "".join(f'<a href="#{m.URL_PATH}">{html.escape(m.TITLE)}</a>' for m, _ in sections)
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>Product Ops report · {html.escape(filters.team_label)} · {filters.period_label}</title>",
            f"<style>{STYLE}</style>",
            f'<script type="text/javascript">{get_plotlyjs()}</script>',
            "</head><body>",
            f"<header><h1>Product Ops report · {html.escape(filters.team_label)}</h1>"
            f"<p>{filters.period_label} · marts published {marts.published_at:%Y-%m-%d %H:%M} UTC</p>"
            "</header>",
            f"<nav>{nav}</nav>",
            *(_section(module.URL_PATH, page) for module, page in sections),
            f"<footer>Generated {generated:%Y-%m-%d %H:%M} UTC by <code>productops report</code> from "
            f"{html.escape(marts.where)}. Durations in days; shaded periods are still under way."
            "</footer>",
            "</body></html>",
        ]
    )


def write_report(
    marts: PublishedMarts, out: Path, team: str | None, period: str | None
) -> tuple[Path, float]:
    started = time.perf_counter()
    text = build_report(marts, team, period)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return out, time.perf_counter() - started
