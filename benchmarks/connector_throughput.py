"""Connector throughput against a local HTTP server, and what a 10 000-issue Jira project costs.

Part 1 serves pre-rendered, real-format pages of 100 issues (Jira search,
GitHub issues, Linear GraphQL) from a server on 127.0.0.1 that answers each
request after a fixed latency (50 ms by default), and times the connectors
twice: reading the pages only, and reading and landing them in DuckDB (one
transaction per page, as a run does).

Part 2 runs the Jira connector and the deletion sweep for real against a
simulated 10 000-issue project and counts the requests the server received:
reference data (statuses, fields), search pages, changelog pages for issues
whose history is longer than what a search page embeds, the key sweep, and
`/myself` on incremental runs. Histories per issue follow a seeded
log-normal distribution; the embedding cap is a parameter (Jira's differs
between endpoints and over time).

Usage: python benchmarks/connector_throughput.py [--latency-ms 50] [--pages 40]
       [--issues 10000] [--embedded 40] [--changed 200]
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import duckdb

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from ingestion.deletions import sweep_deletions  # noqa: E402
from ingestion.http.session import SourceSession  # noqa: E402
from ingestion.loader import RawLoader  # noqa: E402
from ingestion.sources.github import GitHubConnector  # noqa: E402
from ingestion.sources.jira import BASE_FIELDS, JiraConnector  # noqa: E402
from ingestion.sources.linear import LinearConnector  # noqa: E402

# route(method, path, query, body) -> (status, headers, body bytes)
Route = Callable[[str, str, dict, dict | None], tuple[int, dict[str, str], bytes]]


class Server:
    """A threaded HTTP/1.1 server on 127.0.0.1 answering after a fixed latency."""

    def __init__(self, route: Route, latency: float):
        self.route = route
        self.latency = latency
        self.counts: Counter[str] = Counter()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real APIs
            # Headers and body go out as separate writes: without this, Nagle's
            # algorithm and the client's delayed ACK add ~40 ms to some answers.
            disable_nagle_algorithm = True

            def _answer(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                outer.counts[f"{self.command} {_bucket(parts.path, body)}"] += 1
                time.sleep(outer.latency)
                status, headers, payload = outer.route(self.command, parts.path, parse_qs(parts.query), body)
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _answer

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _bucket(path: str, body: dict | None) -> str:
    if path.startswith("/rest/api/3/issue/"):
        return "/rest/api/3/issue/{key}/changelog"
    if body and body.get("fields") == ["id"]:
        return f"{path} (deletion sweep: ids only)"
    return path


def _json(data) -> bytes:
    return json.dumps(data).encode()


def _at(minutes: int) -> datetime:
    return datetime(2026, 1, 5, 9, 0, tzinfo=UTC) + timedelta(minutes=minutes)


def _jira_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def jira_issue(n: int, histories: int, embedded: int) -> dict:
    created = _at(n)
    entries = [
        {
            "id": str(10_000_000 + n * 1000 + h),
            "author": {"accountId": "acc-alice", "displayName": "Alice Martin", "active": True},
            "created": _jira_time(created + timedelta(hours=h + 1)),
            "items": [
                {"field": "status", "fieldtype": "jira", "fieldId": "status", "from": "10000", "to": "3"}
            ],
        }
        for h in range(histories)
    ]
    return {
        "id": str(100_000 + n),
        "key": f"BIG-{n}",
        "fields": {
            "summary": f"Issue {n}",
            "issuetype": {"id": "10001", "name": "Story"},
            "project": {"id": "10000", "key": "BIG"},
            "status": {"id": "3", "name": "In Progress", "statusCategory": {"id": 4, "key": "indeterminate"}},
            "resolution": None,
            "resolutiondate": None,
            "created": _jira_time(created),
            "updated": _jira_time(created + timedelta(hours=histories + 1)),
            "duedate": None,
            "labels": ["backend"],
            "assignee": {"accountId": "acc-alice", "displayName": "Alice Martin", "active": True},
        },
        "_histories": entries,
        "_embedded": embedded,
    }


def render_jira_issue(issue: dict) -> dict:
    shown = issue["_histories"][: issue["_embedded"]]
    total = len(issue["_histories"])
    return {
        "id": issue["id"],
        "key": issue["key"],
        "fields": issue["fields"],
        "changelog": {"startAt": 0, "maxResults": len(shown), "total": total, "histories": shown},
    }


def github_issue(n: int) -> dict:
    stamp = _at(n).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "id": 900_000 + n,
        "number": n,
        "title": f"Issue {n}",
        "state": "open",
        "state_reason": None,
        "labels": [{"id": 1, "name": "bug"}],
        "assignee": {"login": "dave-gh", "id": 104},
        "milestone": None,
        "created_at": stamp,
        "updated_at": stamp,
        "closed_at": None,
        "user": {"login": "octo-bot", "id": 199},
    }


def linear_issue(n: int) -> dict:
    stamp = _at(n).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {
        "id": f"9a1c5c1e-0000-4000-8000-{n:012d}",
        "identifier": f"ENG-{n}",
        "title": f"Issue {n}",
        "priority": 2,
        "estimate": None,
        "createdAt": stamp,
        "updatedAt": stamp,
        "startedAt": stamp,
        "completedAt": None,
        "canceledAt": None,
        "archivedAt": None,
        "trashed": None,
        "dueDate": None,
        "team": {"id": "t-1", "key": "ENG", "name": "Eng"},
        "state": {"id": "s-1", "name": "In Progress", "type": "started"},
        "assignee": {"id": "u-1", "email": "erin@example.com"},
        "labels": {"nodes": [{"id": "l-1", "name": "Feature"}]},
    }


# ------------------------------------------------------------- part 1: pages/s


class PagesToServe:
    """`pages` pre-rendered pages of 100 issues per source, so serving costs nothing."""

    def __init__(self, pages: int, per_page: int = 100):
        self.pages = pages
        self.url = ""  # set once the server listens (GitHub's Link headers need it)
        self.bodies: dict[str, list[bytes]] = {"jira": [], "github": [], "linear": []}
        for p in range(pages):
            numbers = range(p * per_page, (p + 1) * per_page)
            page: dict = {"issues": [render_jira_issue(jira_issue(n, 5, 5)) for n in numbers]}
            if p + 1 < pages:
                page.update(nextPageToken=f"t{p + 1}", isLast=False)
            else:
                page["isLast"] = True
            self.bodies["jira"].append(_json(page))
            self.bodies["github"].append(_json([github_issue(n) for n in numbers]))
            info = {"hasNextPage": p + 1 < pages, "endCursor": f"c{p + 1}"}
            nodes = [linear_issue(n) for n in numbers]
            self.bodies["linear"].append(_json({"data": {"issues": {"nodes": nodes, "pageInfo": info}}}))

    def route(self, method: str, path: str, query: dict, body: dict | None):
        if path == "/rest/api/3/search/jql":
            token = (body or {}).get("nextPageToken")
            return 200, {}, self.bodies["jira"][int(token[1:]) if token else 0]
        if path.endswith("/issues"):
            n = int(query.get("page", ["1"])[0])
            headers = {}
            if n < self.pages:
                headers["Link"] = f'<{self.url}/repositories/42/issues?page={n + 1}&per_page=100>; rel="next"'
            return 200, headers, self.bodies["github"][n - 1]
        if path == "/graphql":
            after = (body or {}).get("variables", {}).get("after")
            return 200, {}, self.bodies["linear"][int(after[1:]) if after else 0]
        return 404, {}, b"{}"


def measure_throughput(latency: float, pages: int) -> list[dict]:
    pages_to_serve = PagesToServe(pages)
    server = Server(pages_to_serve.route, latency)
    pages_to_serve.url = server.url
    results = []
    try:
        makers = {
            "jira": lambda s: JiraConnector(s, page_size=100).issue_pages(None, fields=BASE_FIELDS),
            "github": lambda s: GitHubConnector(s).issue_pages("acme/web", None),
            "linear": lambda s: LinearConnector(s).issue_pages(None),
        }
        for source, make in makers.items():
            base = f"{server.url}/graphql" if source == "linear" else server.url
            for landing in (False, True):
                session = SourceSession(source, base)
                with tempfile.TemporaryDirectory() as tmp, duckdb.connect(f"{tmp}/bench.duckdb") as con:
                    loader = RawLoader(con, "bench")
                    started = time.perf_counter()
                    count = 0
                    for page in make(session):
                        if landing:
                            loader.land_page(source, page)
                        count += 1
                    elapsed = time.perf_counter() - started
                results.append(
                    {
                        "source": source,
                        "landed": landing,
                        "pages": count,
                        "seconds": elapsed,
                        "pages_per_s": count / elapsed,
                        "issues_per_s": count * 100 / elapsed,
                    }
                )
    finally:
        server.close()
    return results


# ---------------------------------------------------- part 2: a 10 000-issue project


class BigJira:
    def __init__(
        self, issues: int, embedded: int, seed: int = 7, search_page: int = 100, changelog_page: int = 100
    ):
        rng = random.Random(seed)
        # Histories per issue: log-normal, median 12 (status, assignee, sprint,
        # label and field edits all count), a long tail of busy issues.
        self.issues = [
            jira_issue(n, max(1, round(rng.lognormvariate(math.log(12), 0.8))), embedded)
            for n in range(issues)
        ]
        self.search_page = search_page
        self.changelog_page = changelog_page
        self.by_key = {i["key"]: i for i in self.issues}
        self.since: datetime | None = None

    def route(self, method: str, path: str, query: dict, body: dict | None):
        if path == "/rest/api/3/status":
            return (
                200,
                {},
                _json([{"id": "3", "name": "In Progress", "statusCategory": {"key": "indeterminate"}}]),
            )
        if path == "/rest/api/3/field":
            return 200, {}, _json([{"id": "summary", "schema": {"type": "string"}}])
        if path == "/rest/api/3/myself":
            return 200, {}, _json({"accountId": "acc-api", "timeZone": "UTC"})
        if path == "/rest/api/3/search/jql":
            ids_only = body["fields"] == ["id"]
            size = 5000 if ids_only else min(int(body.get("maxResults", 50)), self.search_page)
            chosen = self.issues
            if "updated >=" in body["jql"]:
                bound = body["jql"].split('updated >= "')[1][:16]
                since = datetime.strptime(bound, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
                chosen = [i for i in self.issues if datetime.fromisoformat(i["fields"]["updated"]) >= since]
            token = body.get("nextPageToken")
            start = int(base64.b64decode(token)) if token else 0
            chunk = chosen[start : start + size]
            page: dict = {
                "issues": [{"id": i["id"]} if ids_only else render_jira_issue(i) for i in chunk],
                "isLast": start + size >= len(chosen),
            }
            if not page["isLast"]:
                page["nextPageToken"] = base64.b64encode(str(start + size).encode()).decode()
            return 200, {}, _json(page)
        if path.startswith("/rest/api/3/issue/"):
            issue = self.by_key[path.split("/")[5]]
            start = int(query.get("startAt", ["0"])[0])
            values = issue["_histories"][start : start + self.changelog_page]
            total = len(issue["_histories"])
            page = {"startAt": start, "maxResults": self.changelog_page, "total": total, "values": values}
            page["isLast"] = start + len(values) >= total
            return 200, {}, _json(page)
        return 404, {}, b"{}"

    def touch(self, count: int, at: datetime) -> None:
        """`count` issues updated at `at` (one more history each)."""
        for issue in self.issues[:: max(1, len(self.issues) // count)][:count]:
            issue["fields"]["updated"] = _jira_time(at)


def jira_project_cost(issues: int, embedded: int, changed: int) -> dict:
    big = BigJira(issues, embedded)
    server = Server(big.route, 0.0)
    try:
        with tempfile.TemporaryDirectory() as tmp, duckdb.connect(f"{tmp}/bench.duckdb") as con:
            runs = {}
            for name in ("full", "incremental"):
                server.counts.clear()
                session = SourceSession("jira", server.url)
                connector = JiraConnector(session, jql="project = BIG", page_size=100)
                loader = RawLoader(con, name)
                started = time.perf_counter()
                loader.land("jira", "statuses", [connector.status_page()])
                connector.sprint_field_id()
                pages = connector.issue_pages(loader.cursor("jira", "issues"), fields=BASE_FIELDS)
                loader.land("jira", "issues", pages)
                sweep = sweep_deletions(con, "jira", "jira_issues", "issue_id", connector.issue_ids())
                landed = con.execute(
                    "select count(*) from raw.jira_issues where _run_id = ?", [name]
                ).fetchall()
                runs[name] = {
                    "requests": dict(server.counts),
                    "total": sum(server.counts.values()),
                    "issues_landed": landed[0][0],
                    "seconds_at_0ms": time.perf_counter() - started,
                    "keys_swept": sweep.keys_seen,
                }
                big.touch(changed, datetime.now(UTC) + timedelta(days=1))
            histories = [len(i["_histories"]) for i in big.issues]
            runs["histories"] = {
                "total": sum(histories),
                "median": sorted(histories)[len(histories) // 2],
                "issues_over_cap": sum(h > embedded for h in histories),
                "max": max(histories),
            }
            return runs
    finally:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--issues", type=int, default=10_000)
    parser.add_argument("--embedded", type=int, default=40, help="histories a search page embeds per issue")
    parser.add_argument("--changed", type=int, default=200, help="issues changed before the incremental run")
    args = parser.parse_args()

    print(f"Part 1: {args.pages} pages of 100 issues, server latency {args.latency_ms:.0f} ms")
    print(f"{'source':8} {'landed':7} {'pages':>5} {'seconds':>8} {'pages/s':>8} {'issues/s':>9}")
    for latency in (args.latency_ms / 1000, 0.0):
        if latency == 0.0:
            print("-- same, with no added latency (client-side cost alone)")
        for r in measure_throughput(latency, args.pages):
            print(
                f"{r['source']:8} {'yes' if r['landed'] else 'no':7} {r['pages']:>5} {r['seconds']:>8.2f}"
                f" {r['pages_per_s']:>8.1f} {r['issues_per_s']:>9.0f}"
            )

    print(f"\nPart 2: a {args.issues}-issue Jira project, {args.embedded} histories embedded per search hit")
    cost = jira_project_cost(args.issues, args.embedded, args.changed)
    h = cost["histories"]
    print(
        f"histories: {h['total']} in all, median {h['median']} per issue, max {h['max']}; "
        f"{h['issues_over_cap']} issues have more than {args.embedded}"
    )
    for name in ("full", "incremental"):
        run = cost[name]
        what = (
            "first (full) run" if name == "full" else f"incremental run after {args.changed} issues changed"
        )
        print(f"{what}: {run['total']} requests, {run['issues_landed']} issues landed")
        for endpoint, count in sorted(run["requests"].items()):
            print(f"    {count:>6}  {endpoint}")
        wall = run["total"] * args.latency_ms / 1000 + run["seconds_at_0ms"]
        print(
            f"    {run['seconds_at_0ms']:.1f} s with no latency;"
            f" about {wall:.0f} s at {args.latency_ms:.0f} ms a request"
        )


if __name__ == "__main__":
    main()
