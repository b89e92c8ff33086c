"""The Linear GraphQL connector against a real HTTP server on loopback."""

from __future__ import annotations

import json
import time

import dagster as dg
import duckdb
import pytest

from ingestion.config import load_settings
from ingestion.extract import land_linear
from ingestion.http.session import SourceSession, default_retry
from ingestion.loader import RawLoader
from ingestion.pages import SourceError
from ingestion.sources.linear import LinearConnector
from tests import tracker_fixtures as fx
from tests.fake_trackers import Crash, FakeLinear, Router, crash_after


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as c:
        yield c


@pytest.fixture
def router(httpserver):
    return Router(httpserver)


@pytest.fixture
def linear(router):
    return FakeLinear(router, issues=fx.linear_issues())


def connector(router: Router) -> LinearConnector:
    sleeps: list[float] = []
    session = SourceSession(
        "linear",
        f"{router.base_url}/graphql",
        headers={"Authorization": "lin_api_testkey0123456789"},
        retry=default_retry(total=2, backoff_factor=0.01),
        sleep=sleeps.append,
    )
    session.sleeps = sleeps  # type: ignore[attr-defined]
    return LinearConnector(session)


def rows(con, sql: str):
    return con.execute(sql).fetchall()


def land(con, made: LinearConnector, run_id: str, crash: int | None = None):
    loader = RawLoader(con, run_id)
    pages = made.issue_pages(loader.cursor("linear", "issues"))
    if crash is not None:
        pages = crash_after(pages, crash)
    return loader, loader.land("linear", "issues", pages)


def test_two_pages_land_with_trashed_issue_flagged(con, router, linear):
    made = connector(router)
    loader, stats = land(con, made, "run-1")
    assert stats.pages == 2
    assert rows(
        con,
        "select identifier, team_key, is_deleted, deleted_at is not null from raw.linear_issues order by 1",
    ) == [
        ("ENG-1", "ENG", False, False),
        ("ENG-2", "ENG", False, False),
        ("ENG-3", "ENG", False, False),
        ("ENG-4", "ENG", True, True),
    ]
    # The payload has what stg_linear__issues reads.
    payload = json.loads(rows(con, "select payload from raw.linear_issues where identifier = 'ENG-1'")[0][0])
    assert payload["state"] == {"id": fx.DONE_STATE[0], "name": "Done", "type": "completed"}
    assert payload["assignee"]["email"] == "erin@example.com"
    assert payload["labels"]["nodes"][0]["name"] == "Feature"
    assert {"createdAt", "startedAt", "completedAt", "canceledAt", "dueDate", "priority"} <= set(payload)
    first, second = linear.queries
    assert "includeArchived: true" in first["query"] and "orderBy: updatedAt" in first["query"]
    assert first["variables"] == {"first": 100, "filter": None, "after": None}
    assert second["variables"]["after"] is not None
    assert router.requests[0].headers["Authorization"] == "lin_api_testkey0123456789"
    assert loader.cursor("linear", "issues") == "2026-03-30T20:00:00+00:00"


def test_second_run_filters_on_updated_at_since_cursor_minus_overlap(con, router, linear):
    made = connector(router)
    land(con, made, "run-1")
    eng3 = linear.issues["9a1c5c1e-0000-4000-8000-000000000003"]
    eng3.update(
        updatedAt="2026-04-01T09:00:00.000Z",
        completedAt="2026-04-01T09:00:00.000Z",
        state=dict(zip(("id", "name", "type"), fx.DONE_STATE, strict=True)),
    )
    loader, _ = land(con, made, "run-2")
    assert linear.queries[-1]["variables"]["filter"] == {"updatedAt": {"gte": "2026-03-30T19:00:00+00:00"}}
    assert rows(con, "select identifier from raw.linear_issues where _run_id = 'run-2' order by 1") == [
        ("ENG-1",),
        ("ENG-3",),
    ]
    assert loader.cursor("linear", "issues") == "2026-04-01T09:00:00+00:00"


def test_cursor_moves_only_with_the_last_page(con, router, linear):
    # Linear lists newest first: a cursor moved after page 1 would skip page 2.
    made = connector(router)
    with pytest.raises(Crash):
        land(con, made, "run-1", crash=1)
    assert rows(con, "select count(*) from raw.linear_issues") == [(2,)]
    assert RawLoader(con, "x").cursor("linear", "issues") is None
    land(con, made, "run-2")
    assert rows(con, "select count(*), count(distinct issue_id) from raw.linear_issues") == [(4, 4)]


def test_graphql_errors_become_a_clear_error(con, router, linear):
    body = {
        "errors": [
            {
                "message": 'Cannot query field "foo" on type "Issue".',
                "locations": [{"line": 3, "column": 7}],
                "extensions": {"code": "GRAPHQL_VALIDATION_FAILED", "type": "graphql error"},
            }
        ]
    }
    router.fail_next("POST", "/graphql", status=400, body=json.dumps(body))
    with pytest.raises(SourceError) as info:
        land(con, connector(router), "run-1")
    text = str(info.value)
    assert text.startswith(
        "linear: GraphQL error (HTTP 400): "
        'Cannot query field "foo" on type "Issue". [GRAPHQL_VALIDATION_FAILED]'
    )
    assert "/graphql" in text
    assert rows(con, "select count(*) from raw.linear_issues") == [(0,)]


def test_errors_in_a_200_answer_are_errors_too(con, router, linear):
    body = {"data": None, "errors": [{"message": "Entity not found", "extensions": {"code": "INPUT_ERROR"}}]}
    router.fail_next("POST", "/graphql", status=200, body=json.dumps(body))
    with pytest.raises(SourceError, match=r"GraphQL error \(HTTP 200\): Entity not found \[INPUT_ERROR\]"):
        land(con, connector(router), "run-1")


def test_ratelimited_is_waited_out_until_the_reset(con, router, linear):
    reset_ms = int((time.time() + 20) * 1000)
    router.fail_next(
        "POST",
        "/graphql",
        status=400,
        headers={"X-RateLimit-Requests-Remaining": "0", "X-RateLimit-Requests-Reset": str(reset_ms)},
        body=json.dumps(
            {"errors": [{"message": "Rate limit exceeded", "extensions": {"code": "RATELIMITED"}}]}
        ),
    )
    made = connector(router)
    land(con, made, "run-1")
    assert len(made.session.sleeps) == 1 and 19 <= made.session.sleeps[0] <= 22
    assert rows(con, "select count(*) from raw.linear_issues") == [(4,)]


def live_env(router: Router, tmp_path, key: str) -> dict[str, str]:
    return {
        "LINEAR_API_URL": f"{router.base_url}/graphql",
        "LINEAR_API_KEY": key,
        "PRODUCTOPS_SALT": "test-salt",
        "PRODUCTOPS_WAREHOUSE": str(tmp_path / "w.duckdb"),
        "PRODUCTOPS_CONFIG": str(tmp_path / "none.toml"),
    }


def test_land_linear_from_settings_sends_the_key_and_sweeps(con, router, linear, tmp_path):
    settings = load_settings(live_env(router, tmp_path, "lin_api_abcdefghijklmnop"))
    stats = land_linear(RawLoader(con, "run-1"), settings)
    assert stats["issues"].rows_landed == 4
    assert stats["issues:sweep"].keys_seen == 3  # the trashed issue does not count as present
    assert stats["issues:sweep"].marked_deleted == 0
    assert {r.headers["Authorization"] for r in router.requests} == {"lin_api_abcdefghijklmnop"}


def test_oauth_tokens_go_as_bearer(con, router, linear, tmp_path):
    settings = load_settings(live_env(router, tmp_path, "lin_oauth_abcdefghijklmnop"))
    land_linear(RawLoader(con, "run-1"), settings)
    assert {r.headers["Authorization"] for r in router.requests} == {"Bearer lin_oauth_abcdefghijklmnop"}


def test_linear_asset_feeds_dbt_and_runs_only_when_configured(pipeline_env):
    from orchestration.definitions import defs
    from orchestration.defs.sources import source_assets
    from orchestration.resources import WarehouseResource

    graph = defs.resolve_asset_graph()
    key = dg.AssetKey(["linear", "issues"])
    assert graph.get(key).is_materializable
    staging = next(k for k in graph.get_all_asset_keys() if k.path[-1] == "stg_linear__issues")
    assert key in graph.get(staging).parent_keys
    # The demo has no Linear: the asset runs and extracts nothing.
    linear_asset = next(a for a in source_assets if key in a.keys)
    result = dg.materialize([linear_asset], resources={"warehouse": WarehouseResource()})
    assert result.success
    metadata = result.asset_materializations_for_node(linear_asset.op.name)[0].metadata
    assert metadata["enabled"].value is False
    assert metadata["rows_landed"].value == 0
