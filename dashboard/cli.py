"""`productops dashboard` and `productops report`: registered on the main CLI by `add_commands`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

EXIT_NOTHING_YET = 3
APP = Path(__file__).with_name("app.py")
DEFAULT_PORT = 8501


def _published():
    from dashboard.data import PublishedMarts
    from ingestion.config import load_settings

    return PublishedMarts.of(load_settings())


def cmd_dashboard(args: argparse.Namespace) -> int:
    from dashboard.data import NotPublished

    marts = _published()
    try:
        marts.check()
    except NotPublished as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_NOTHING_YET
    # Absolute but not resolved: the link follows each new publish.
    os.environ["PRODUCTOPS_PUBLISHED"] = os.path.abspath(marts.path)
    print(
        f"Product Ops dashboard on http://{args.host}:{args.port} (reading {marts.where}, read-only; "
        "Ctrl-C stops it)",
        file=sys.stderr,
        flush=True,
    )
    # The Streamlit server replaces this process: Ctrl-C and signals reach it directly.
    os.execv(
        sys.executable,
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(APP),
            f"--server.port={args.port}",
            f"--server.address={args.host}",
            "--server.headless=true",
            "--browser.gatherUsageStats=false",
            "--server.fileWatcherType=none",
            "--client.toolbarMode=viewer",
            "--theme.base=light",
            "--theme.primaryColor=#2563eb",
        ],
    )
    return 0  # not reached


def cmd_report(args: argparse.Namespace) -> int:
    from dashboard.data import NotPublished
    from dashboard.report import write_report

    try:
        out, seconds = write_report(_published(), Path(args.out), args.team, args.period)
    except NotPublished as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_NOTHING_YET
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"report written to {out} ({out.stat().st_size / 1e6:.1f} MB, {seconds:.1f}s): one HTML file that "
        "opens offline"
    )
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    dashboard = sub.add_parser(
        "dashboard",
        help="the product-ops dashboard on the published marts (a local web page)",
        description="Serve the dashboard (Streamlit) on the published marts, read-only: Scorecard,\n"
        "Delivery, "
        "Adoption, Satisfaction, Improvement and Data health, each with a team and a period filter.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    dashboard.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    dashboard.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    dashboard.set_defaults(func=cmd_dashboard)

    report = sub.add_parser(
        "report",
        help="one self-contained HTML report of every dashboard page (to attach or post)",
        description="Write the dashboard's pages, charts included, into one HTML file that opens offline.",
    )
    report.add_argument("--team", help="team id (default: the organisation, all teams)")
    report.add_argument(
        "--period",
        help="YYYY-MM (that month and the 11 before) or YYYY-MM..YYYY-MM "
        "(default: the twelve months up to the newest complete one)",
    )
    report.add_argument("--out", required=True, help="the HTML file to write")
    report.set_defaults(func=cmd_report)
