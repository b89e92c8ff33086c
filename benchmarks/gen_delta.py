"""The incremental scenario's input: 0.1 % new and updated records after a full load.

Works on any recording in the real formats (the demo's or the bulk
generator's): a second Jira recording whose search returns only the issues
that changed since the full load (half of them updated issues with one more
status change, half new issues), and one more usage log file of new events.
Every new instant falls on the day after the history ends, so it is later
than anything already landed and still in the past.
"""

from __future__ import annotations

import json
import random
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.gen_jira import _dumps, _exchange, is_sweep, jira_time, reference_exchanges
from ingestion.demo.jira_reference import RESOLUTIONS

SAMPLE_PAGES = 40
SEARCH_PAGE_SIZE = 100
MAX_EMBEDDED_AFTER_UPDATE = 20  # the demo's embedding limit; stay within it
NEW_ID_BASE = 10**12  # far above any recorded id: new ids never collide


def _exchanges(api_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (api_dir / "exchanges.jsonl").read_text().splitlines() if line]


def _status_objects(api_dir: Path, exchanges: list[dict]) -> dict[str, dict[str, Any]]:
    entry = next(e for e in exchanges if e["path"] == "/rest/api/3/status")
    statuses = json.loads((api_dir / entry["body_file"]).read_text())
    drop = ("untranslatedName", "scope")
    return {str(s["id"]): {k: v for k, v in s.items() if k not in drop} for s in statuses}


def _sample_issues(api_dir: Path, exchanges: list[dict], rng: random.Random) -> list[dict[str, Any]]:
    pages = [e for e in exchanges if e["path"] == "/rest/api/3/search/jql" and not is_sweep(e)]
    chosen = pages if len(pages) <= SAMPLE_PAGES else rng.sample(pages, SAMPLE_PAGES)
    issues = []
    for entry in chosen:
        issues += json.loads((api_dir / entry["body_file"]).read_bytes())["issues"]
    return issues


def _issue_ids(api_dir: Path, exchanges: list[dict]) -> list[str]:
    """Every issue id of the full recording: from its sweep pages, else its search pages."""
    searches = [e for e in exchanges if e["path"] == "/rest/api/3/search/jql"]
    sweep = [e for e in searches if is_sweep(e)]
    ids: list[str] = []
    for e in sweep or searches:
        ids += [str(issue["id"]) for issue in json.loads((api_dir / e["body_file"]).read_bytes())["issues"]]
    return list(dict.fromkeys(ids))


def _status_item(history: dict[str, Any]) -> dict[str, Any] | None:
    return next(
        (i for i in history.get("items", []) if (i.get("fieldId") or i.get("field")) == "status"), None
    )


def _resolution_item(old: dict | None, new_id: str | None) -> dict[str, Any]:
    new = RESOLUTIONS["completed"] if new_id else None
    return {
        "field": "resolution",
        "fieldtype": "jira",
        "fieldId": "resolution",
        "from": old["id"] if old else None,
        "fromString": old["name"] if old else None,
        "to": new[0] if new else None,
        "toString": new[1] if new else None,
    }


def _resolution_object() -> dict[str, Any]:
    res_id, name, description = RESOLUTIONS["completed"]
    return {
        "self": f"{{base}}/rest/api/3/resolution/{res_id}",
        "id": res_id,
        "description": description,
        "name": name,
    }


def _move(issue: dict, to_status: dict, at_ms: int, history_id: int, author: dict) -> None:
    """Append one status change (with its resolution change) to an issue, in place."""
    fields = issue["fields"]
    before = fields["status"]
    items = []
    was_done = before["statusCategory"]["key"] == "done"
    is_done = to_status["statusCategory"]["key"] == "done"
    if was_done and fields.get("resolution"):
        items.append(_resolution_item(fields["resolution"], None))
        fields["resolution"], fields["resolutiondate"] = None, None
    if is_done:
        items.append(_resolution_item(None, "done"))
        fields["resolution"], fields["resolutiondate"] = _resolution_object(), jira_time(at_ms, "UTC")
    items.append(
        {
            "field": "status",
            "fieldtype": "jira",
            "fieldId": "status",
            "from": before["id"],
            "fromString": before["name"],
            "to": to_status["id"],
            "toString": to_status["name"],
        }
    )
    fields["status"] = to_status
    fields["updated"] = jira_time(at_ms, "UTC")
    changelog = issue["changelog"]
    changelog["histories"].append(
        {"id": str(history_id), "author": author, "created": jira_time(at_ms, "UTC"), "items": items}
    )
    changelog["total"] = changelog["maxResults"] = len(changelog["histories"])


def make_delta(
    data_dir: Path, *, share: float, issues_total: int, usage_total: int, history_end: datetime, seed: int
) -> dict[str, int]:
    """Write `<data_dir>/delta/api/jira/` and `<data_dir>/delta/usage/`; returns counts."""
    rng = random.Random(f"{seed}/delta")
    api_dir = data_dir / "api" / "jira"
    out_dir = data_dir / "delta"
    shutil.rmtree(out_dir, ignore_errors=True)
    (out_dir / "api" / "jira" / "pages").mkdir(parents=True)
    exchanges = _exchanges(api_dir)
    statuses = _status_objects(api_dir, exchanges)
    sample = _sample_issues(api_dir, exchanges, rng)

    # Workflow edges seen per project: an update moves an issue along one of them.
    edges: dict[tuple[str, str], list[str]] = {}
    for issue in sample:
        project = issue["fields"]["project"]["key"]
        for history in issue["changelog"]["histories"]:
            item = _status_item(history)
            if item and item["to"] in statuses and item["to"] != item["from"]:
                edges.setdefault((project, item["from"]), []).append(item["to"])

    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    start_ms = int(history_end.timestamp() * 1000)
    room = max(60_000, min(20 * 3_600_000, now_ms - start_ms - 600_000))

    def instant() -> int:
        return start_ms + rng.randint(30_000, room)

    wanted = max(2, round(share * issues_total))
    changed: list[dict[str, Any]] = []
    next_id = NEW_ID_BASE
    updatable = [
        i
        for i in sample
        if i["changelog"]["total"] == len(i["changelog"]["histories"]) < MAX_EMBEDDED_AFTER_UPDATE
        and edges.get((i["fields"]["project"]["key"], i["fields"]["status"]["id"]))
    ]
    rng.shuffle(updatable)
    for issue in updatable[: wanted // 2]:
        targets = edges[(issue["fields"]["project"]["key"], issue["fields"]["status"]["id"])]
        author = (issue["changelog"]["histories"] or [{"author": None}])[-1]["author"]
        next_id += 1
        _move(issue, statuses[rng.choice(targets)], instant(), next_id, author)
        changed.append(issue)
    updated = len(changed)

    templates = [i for i in sample if any(_status_item(h) for h in i["changelog"]["histories"])]
    for n in range(wanted - updated):
        template = rng.choice(templates)
        first = next(h for h in template["changelog"]["histories"] if _status_item(h))
        step = _status_item(first)
        issue = json.loads(json.dumps(template))
        next_id += 1
        project = issue["fields"]["project"]["key"]
        issue["id"] = str(next_id)
        issue["self"] = f"{{base}}/rest/api/3/issue/{next_id}"
        issue["key"] = f"{project}-{900_000 + n}"
        created = instant()
        fields = issue["fields"]
        fields |= {
            "created": jira_time(created, "UTC"),
            "updated": jira_time(created, "UTC"),
            "status": statuses[step["from"]],
            "resolution": None,
            "resolutiondate": None,
            "duedate": None,
        }
        issue["changelog"] = {"startAt": 0, "maxResults": 0, "total": 0, "histories": []}
        next_id += 1
        _move(issue, statuses[step["to"]], created + rng.randint(60_000, 1_800_000), next_id, first["author"])
        changed.append(issue)

    delta_exchanges = [dict(e) for e in exchanges if e["path"] in ("/rest/api/3/status", "/rest/api/3/field")]
    for e in delta_exchanges:
        shutil.copyfile(api_dir / e["body_file"], out_dir / "api" / "jira" / e["body_file"])
    chunks = [changed[i : i + SEARCH_PAGE_SIZE] for i in range(0, len(changed), SEARCH_PAGE_SIZE)]
    for n, chunk in enumerate(chunks, start=1):
        body: dict[str, Any] = {"issues": chunk}
        if n < len(chunks):
            body["nextPageToken"] = f"delta-{seed}-{n + 1}"
        body["isLast"] = n == len(chunks)
        name = f"pages/delta-search-{n:04d}.json"
        (out_dir / "api" / "jira" / name).write_bytes(_dumps(body))
        request = {"nextPageToken": f"delta-{seed}-{n}"} if n > 1 else {}
        delta_exchanges.append(_exchange("POST", "/rest/api/3/search/jql", name, json_body=request))
    every_id = _issue_ids(api_dir, exchanges) + [i["id"] for i in changed[updated:]]
    delta_exchanges += reference_exchanges(every_id, out_dir / "api" / "jira" / "pages", "delta")
    (out_dir / "api" / "jira" / "exchanges.jsonl").write_text(
        "".join(json.dumps(e) + "\n" for e in delta_exchanges)
    )

    usage_count = _delta_usage(data_dir, out_dir / "usage", max(10, round(share * usage_total)), instant, rng)
    return {
        "delta_jira_updated": updated,
        "delta_jira_new": len(changed) - updated,
        "delta_jira_pages": len(chunks),
        "delta_usage_events": usage_count,
    }


def _delta_usage(data_dir: Path, out_dir: Path, count: int, instant, rng: random.Random) -> int:
    """New events by people and tools seen in the logs, on the day after the history."""
    logs = sorted(p for p in (data_dir / "landing" / "usage").glob("*.jsonl"))
    seen: list[dict[str, str]] = []
    with logs[-1].open() as fh:
        for n, line in enumerate(fh):
            if n >= 50_000:
                break
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and all(record.get(k) for k in ("user_email", "tool", "event")):
                seen.append(record)
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = []
    for n in range(count):
        template = rng.choice(seen)
        at = datetime.fromtimestamp(instant() / 1000, UTC)
        record = {
            "timestamp": f"{at:%Y-%m-%dT%H:%M:%S}Z",
            "user_email": template["user_email"],
            "tool": template["tool"],
            "event": template["event"],
            "event_id": f"de17a{n:011x}",
        }
        lines.append(json.dumps(record, separators=(",", ":")))
    (out_dir / "events-delta.jsonl").write_text("\n".join(lines) + "\n")
    return count
