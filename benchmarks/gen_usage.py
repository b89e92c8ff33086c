"""Bulk usage event logs: tens of millions of JSONL lines, written by DuckDB.

Same shape as `ingestion/demo/usage.py`: one `events-YYYY-MM.jsonl` a month
(the busiest month gzipped), each line `timestamp` (the user's local offset;
Copilot's exporter writes UTC with `Z`), `user_email`, `tool` (the log alias),
`event`, `event_id`. People adopt a tool some days after its rollout and use
it on working days while they are employed; Figma logs some logins with
capitals; a few contractors are on no roster; one file carries three bad
lines and two duplicated events. Randomness is a hash of the event number,
so the output does not depend on DuckDB's thread scheduling.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import duckdb

from benchmarks.gen_org import BulkOrg, rollout
from ingestion.demo.adoption import adoption_chance
from ingestion.demo.catalog import TOOLS

UNKNOWN_SHARE_PER_MILLE = 2  # events by emails on no roster


def _uniform(expr: str, salt: int) -> str:
    """A uniform [0, 1) from a hash of `expr` (deterministic, thread-independent)."""
    return f"((hash({expr}, {salt}) >> 11) / 9007199254740992.0)"


def write_usage(org: BulkOrg, events: int, usage_dir: Path, work_db: Path, seed: int) -> dict[str, int]:
    window = org.window
    usage_dir.mkdir(parents=True, exist_ok=True)
    work_db.unlink(missing_ok=True)
    con = duckdb.connect(str(work_db))
    try:
        con.execute("set preserve_insertion_order = false")
        con.execute("set enable_progress_bar = false")
        con.execute(
            "create table people (p integer, email varchar, tz varchar, team varchar, role varchar,"
            " emp_from date, emp_to date)"
        )
        rows = []
        for person in org.people:
            first, last = person.memberships[0], person.memberships[-1]
            rows.append(
                (
                    person.index,
                    person.email,
                    org.team_zones[first.team],
                    org.team_ids[first.team],
                    person.role,
                    first.valid_from,
                    last.valid_to,
                )
            )
        con.executemany("insert into people values (?, ?, ?, ?, ?, ?, ?)", rows)
        con.execute(
            "create table tools (t integer, tool_id varchar, alias varchar, events varchar[],"
            " per_session double, rollout date, delay double, utc_log boolean)"
        )
        con.executemany(
            "insert into tools values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    n,
                    t.tool_id,
                    t.log_name,
                    list(t.events),
                    t.events_per_session,
                    rollout(window, t.rollout_day),
                    t.delay_days,
                    t.utc_log,
                )
                for n, t in enumerate(TOOLS)
            ],
        )
        # Adoption chances by (tool, team) and role, as the demo's adoption model has them.
        chances = []
        for n, tool in enumerate(TOOLS):
            for role in ("engineer", "senior engineer", "product manager", "designer"):
                chances.append((n, role, adoption_chance(tool, "", role)))
        con.execute("create table chances (t integer, role varchar, chance double)")
        con.executemany("insert into chances values (?, ?, ?)", chances)
        end_day = window.run_date - timedelta(days=1)
        con.execute(
            f"""
            create table pairs as
            with candidates as (
                select p.*, t.*, c.chance,
                    greatest(t.rollout, p.emp_from + 1)
                        + cast(floor(-ln(1 - {_uniform("p.p * 16 + t.t", seed + 1)}) * t.delay) as integer)
                        as first_day,
                    least(date '{end_day}', coalesce(p.emp_to - 2, date '{end_day}')) as last_day,
                    {_uniform("p.p * 16 + t.t", seed + 2)} as u_adopt,
                    0.35 + 0.5 * {_uniform("p.p * 16 + t.t", seed + 3)} as intensity
                from people p cross join tools t
                join chances c on c.t = t.t and c.role = p.role
            )
            select *, (last_day - first_day + 1) * intensity * per_session as weight
            from candidates
            where u_adopt < chance and first_day <= last_day
            """
        )
        total_weight = con.execute("select sum(weight) from pairs").fetchall()[0][0] or 1.0
        con.execute(
            f"""
            create table events as
            with allocated as (
                select *, cast(round(weight / {total_weight} * {events}) as bigint) as n,
                    sum(cast(round(weight / {total_weight} * {events}) as bigint))
                        over (order by p, t rows between unbounded preceding and 1 preceding) as before
                from pairs
            ),
            expanded as (
                select *, coalesce(before, 0) + unnest(range(n)) as i from allocated
            ),
            placed as (
                select *,
                    first_day + cast(floor({_uniform("i", seed + 4)} * (last_day - first_day + 1)) as integer)
                        as raw_day,
                    {_uniform("i", seed + 5)} as u_weekend,
                    8.5 + 9 * {_uniform("i", seed + 6)} as hour
                from expanded
            ),
            dated as (
                select *,
                    case
                        when isodow(raw_day) >= 6 and u_weekend > 0.1
                            then least(last_day, raw_day + cast(8 - isodow(raw_day) as integer))
                        else raw_day
                    end as day
                from placed
            ),
            stamped as (
                select *,
                    cast(day as timestamp) + to_microseconds(cast(hour * 3600e6 as bigint)) as local_ts
                from dated
            ),
            instants as (
                select *, timezone(tz, local_ts) as occurred,
                    cast(epoch(local_ts) - epoch(timezone(tz, local_ts)) as integer) as offset_s
                from stamped
            )
            select
                occurred,
                case
                    when utc_log then strftime(timezone('UTC', occurred), '%Y-%m-%dT%H:%M:%S.%gZ')
                    else strftime(local_ts, '%Y-%m-%dT%H:%M:%S')
                        || case when offset_s < 0 then '-' else '+' end
                        || lpad(cast(abs(offset_s) // 3600 as varchar), 2, '0') || ':'
                        || lpad(cast(abs(offset_s) % 3600 // 60 as varchar), 2, '0')
                end as "timestamp",
                case
                    when hash(i, {seed + 7}) % 1000 < {UNKNOWN_SHARE_PER_MILLE}
                        then 'contractor-' || (hash(i, {seed + 8}) % 50) || '@contractors.example.net'
                    when tool_id = 'figma' and p % 10 = 0
                        then upper(email[1]) || email[2:]
                    else email
                end as user_email,
                alias as tool,
                events[1 + cast(hash(i, {seed + 9}) % len(events) as integer)] as event,
                printf('%016x', hash(i, {seed + 10})) as event_id
            from instants
            where day <= last_day
            """
        )
        months = [
            r[0]
            for r in con.execute(
                "select strftime(occurred, '%Y-%m') as m from events group by m order by m"
            ).fetchall()
        ]
        sizes = dict(
            con.execute("select strftime(occurred, '%Y-%m') as m, count(*) from events group by m").fetchall()
        )
        damaged = months[-2] if len(months) > 1 else months[-1]
        busiest = max((m for m in months if m != damaged), key=lambda m: sizes[m], default=months[0])
        files = []
        for month in months:
            name = f"events-{month}.jsonl" + (".gz" if month == busiest else "")
            options = "format json" + (", compression gzip" if month == busiest else "")
            con.execute(
                f"""
                copy (
                    select "timestamp", user_email, tool, event, event_id from events
                    where strftime(occurred, '%Y-%m') = '{month}' order by occurred, event_id
                ) to '{usage_dir / name}' ({options})
                """
            )
            files.append(name)
        sample = con.execute(
            f"""select "timestamp", user_email, tool, event, event_id from events
                where strftime(occurred, '%Y-%m') = '{damaged}' order by occurred, event_id limit 2"""
        ).fetchall()
        total = con.execute("select count(*) from events").fetchall()[0][0]
    finally:
        con.close()
        work_db.unlink(missing_ok=True)
    _damage(usage_dir / f"events-{damaged}.jsonl", sample)
    return {
        "usage_events": int(total),
        "usage_files": len(files),
        "usage_bad_lines": 3,
        "usage_duplicate_lines": 2,
    }


def _damage(path: Path, sample: list[tuple]) -> None:
    """Three unusable lines and two events delivered twice, at the end of one month."""
    keys = ("timestamp", "user_email", "tool", "event", "event_id")
    records = [dict(zip(keys, row, strict=True)) for row in sample]
    duplicates = [json.dumps(r, separators=(",", ":")) for r in records]
    truncated = duplicates[0][: len(duplicates[0]) // 2]
    no_offset = dict(records[0], event_id="0bad000000000001", timestamp=records[0]["timestamp"][:19])
    missing = {k: v for k, v in records[0].items() if k != "user_email"} | {"event_id": "0bad000000000002"}
    lines = [truncated, json.dumps(no_offset, separators=(",", ":")), *duplicates]
    lines.append(json.dumps(missing, separators=(",", ":")))
    with path.open("a") as fh:
        fh.write("".join(line + "\n" for line in lines))
