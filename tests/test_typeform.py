"""Typeform Responses API → raw.survey_* through a real HTTP server on 127.0.0.1.

The server serves tests/fixtures/typeform/ like Typeform does: the form
definition, and the responses newest first, a page at a time, going back with
`before=<token>`. Expected values are worked out by hand from those files
(lines are the responses in submission order, oldest first):

  1 ann  2 bob  3 gina  4 carol  5 hank  6 max (workload 6 on a 0–4 scale)
  7 dave (superseded by 12)  8 erin  9 ivan  10 anonymous  11 judy  12 dave
  + kim's response, started but never submitted.
"""

from __future__ import annotations

import copy
import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from werkzeug import Request, Response

from ingestion.config import Secret, SurveyMapping, TypeformSettings, load_settings
from ingestion.http.session import SourceSession, default_retry
from ingestion.loader import RawLoader
from ingestion.pages import SourceError
from ingestion.pseudonyms import respondent_key, stable_hash
from ingestion.sources.surveys import land_surveys
from ingestion.sources.surveys.typeform import (
    TypeformConnector,
    answer_text,
    field_scale,
    typeform_connector,
)

FIXTURES = Path(__file__).parent / "fixtures" / "typeform"
FORM_ID = "Xk3pQ9"
FORM = json.loads((FIXTURES / "pulse-form.json").read_text())
RESPONSES = json.loads((FIXTURES / "pulse-responses.json").read_text())
SALT = Secret("typeform-test-salt-51d0")
TOKEN = "tfp_secret_token_never_printed"
SOURCE = f"typeform/{FORM_ID}"

PULSE = SurveyMapping.from_dict(
    {
        "id": "pulse_tf",
        "format": "typeform",
        "form_id": FORM_ID,
        "wave_from": "filename",  # for Typeform: read from the form title
        "wave_pattern": r"(\d{4}-Q[1-4])",
        "respondent_question": "email",  # a hidden field
        "team_question": "Which team are you on?",
        "recommend_question": "enps",  # a field ref
        "likert": [
            # the mapping's scale is stale: the form's (0–4) wins
            {"id": "workload", "question": "My workload is sustainable.", "scale": [1, 5]},
            {"id": "tooling", "question": "tooling"},
        ],
    }
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


class TypeformApi:
    """GET /forms/{id} and GET /forms/{id}/responses, paged back by `before`."""

    def __init__(self, items: list[dict]):
        self.items = items
        self.requests: list[dict[str, str]] = []
        self.auth: set[str] = set()

    def form(self, request: Request) -> Response:
        self.auth.add(request.headers.get("Authorization", ""))
        return Response(json.dumps(FORM), content_type="application/json")

    def responses(self, request: Request) -> Response:
        self.auth.add(request.headers.get("Authorization", ""))
        self.requests.append(dict(request.args))
        size = int(request.args.get("page_size", 25))
        start = 0
        if before := request.args.get("before"):
            start = [i["token"] for i in self.items].index(before) + 1
        page = self.items[start : start + size]
        body = {"total_items": len(self.items), "page_count": -(-len(self.items) // size), "items": page}
        return Response(json.dumps(body), content_type="application/json")


def serve(httpserver, items: list[dict] | None = None) -> TypeformApi:
    api = TypeformApi(RESPONSES["items"] if items is None else items)
    httpserver.expect_request(f"/forms/{FORM_ID}", method="GET").respond_with_handler(api.form)
    httpserver.expect_request(f"/forms/{FORM_ID}/responses", method="GET").respond_with_handler(api.responses)
    return api


def connector(httpserver, page_size: int = 1000) -> TypeformConnector:
    session = SourceSession(
        "typeform",
        httpserver.url_for("/"),
        headers={"Authorization": f"Bearer {TOKEN}"},
        retry=default_retry(total=1, backoff_factor=0.01),
    )
    return TypeformConnector(session, page_size=page_size)


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as c:
        yield c


def load(con, tmp_path, httpserver, page_size: int = 1000, run_id: str = "run-1", mappings=(PULSE,)):
    loader = RawLoader(con, run_id)
    return land_surveys(
        con,
        loader,
        tmp_path / "landing" / "surveys",
        mappings,
        SALT,
        typeform=connector(httpserver, page_size),
    )


def responses(con) -> list[tuple]:
    rows = con.execute(
        """
        select _line_number, survey_wave, submitted_at, team_answer,
               map(list(item_id order by item_id), list(answer_value order by item_id))
        from raw.survey_responses join raw.survey_answers using (response_key)
        where _source_file = ?
        group by all order by _line_number
        """,
        [SOURCE],
    ).fetchall()
    return [(line, wave, at, team, dict(items)) for line, wave, at, team, items in rows]


# -- the definition ------------------------------------------------------------------


def test_scales_come_from_the_field_definitions():
    assert field_scale({"type": "opinion_scale", "properties": {"steps": 5, "start_at_one": False}}) == (0, 4)
    assert field_scale({"type": "opinion_scale", "properties": {"steps": 7, "start_at_one": True}}) == (1, 7)
    assert field_scale({"type": "opinion_scale", "properties": {}}) == (0, 10)  # Typeform's default: 11 steps
    assert field_scale({"type": "rating", "properties": {"steps": 10, "shape": "star"}}) == (1, 10)
    assert field_scale({"type": "rating", "properties": {}}) == (1, 5)
    assert field_scale({"type": "nps", "properties": {}}) == (0, 10)
    assert field_scale({"type": "short_text", "properties": {}}) is None


@pytest.mark.parametrize(
    ("answer", "text"),
    [
        ({"type": "number", "number": 7}, "7"),
        ({"type": "number", "number": 0}, "0"),
        ({"type": "choice", "choice": {"id": "c1", "label": "Payments"}}, "Payments"),
        ({"type": "choice", "choice": {"other": "Data Science"}}, "Data Science"),
        ({"type": "choices", "choices": {"labels": ["A", "B"], "other": "C"}}, "A, B, C"),
        ({"type": "boolean", "boolean": False}, "false"),
        ({"type": "text", "text": "fine"}, "fine"),
        ({"type": "payment", "payment": {"amount": "1"}}, ""),
    ],
)
def test_answers_read_as_cells(answer, text):
    assert answer_text(answer) == text


# -- paging ------------------------------------------------------------------------------


def test_responses_are_paged_back_with_the_last_token(httpserver):
    api = serve(httpserver)
    pages = list(connector(httpserver, page_size=5).response_pages(FORM_ID))
    tokens = [i["token"] for i in RESPONSES["items"]]
    assert [len(p) for p in pages] == [5, 5, 3]
    assert api.requests == [
        {"page_size": "5"},
        {"page_size": "5", "before": tokens[4]},
        {"page_size": "5", "before": tokens[9]},
        {"page_size": "5", "before": tokens[12]},  # the empty page ends it
    ]
    assert api.auth == {f"Bearer {TOKEN}"}


def test_page_size_is_capped_at_typeforms_maximum(httpserver):
    api = serve(httpserver)
    list(connector(httpserver, page_size=5000).response_pages(FORM_ID))
    assert api.requests[0] == {"page_size": "1000"}


# -- landing -----------------------------------------------------------------------------


def test_submitted_responses_land_one_per_respondent(con, tmp_path, httpserver):
    serve(httpserver)
    stats = load(con, tmp_path, httpserver, page_size=4)
    assert (stats.pages, stats.rows_landed, stats.rows_rejected) == (1, 10, 1)
    n = None

    def a(recommend, tooling, workload):
        return {"recommend": recommend, "tooling": tooling, "workload": workload}

    assert responses(con) == [
        (1, "2026-Q3", utc(2026, 8, 3, 9, 1, 12), "Payments", a(10.0, 5.0, 4.0)),
        (2, "2026-Q3", utc(2026, 8, 3, 12, 12, 30), "Payments", a(9.0, 3.0, 2.0)),
        (3, "2026-Q3", utc(2026, 8, 3, 15, 2), "Platform", a(8.0, 4.0, 3.0)),
        # an unanswered question is absent from `answers`: null, never 0
        (4, "2026-Q3", utc(2026, 8, 4, 7, 31, 5), "Payments", a(10.0, n, 3.0)),
        (5, "2026-Q3", utc(2026, 8, 4, 9, 4), "Platform", a(3.0, 2.0, 1.0)),
        (8, "2026-Q3", utc(2026, 8, 5, 9, 3), "Payments", a(n, 5.0, 2.0)),
        (9, "2026-Q3", utc(2026, 8, 5, 14, 1), "Platform", a(9.0, 5.0, 4.0)),
        # "Other" typed in; no hidden email: anonymous
        (10, "2026-Q3", utc(2026, 8, 5, 17, 1), "Data Science", a(8.0, 3.0, 3.0)),
        (11, "2026-Q3", utc(2026, 8, 6, 8, 5), "Platform", a(7.0, 3.0, 2.0)),
        # Dave submitted twice (line 7, then 12): the latest wins
        (12, "2026-Q3", utc(2026, 8, 6, 10, 1, 40), "Payments", a(6.0, 2.0, 1.0)),
    ]  # fmt: skip


def test_scales_of_the_form_and_keys_of_the_respondents(con, tmp_path, httpserver):
    serve(httpserver)
    load(con, tmp_path, httpserver)
    assert con.execute(
        "select distinct item_id, item_kind, scale_min, scale_max from raw.survey_answers order by 1"
    ).fetchall() == [
        ("recommend", "recommend", 0.0, 10.0),
        ("tooling", "likert", 1.0, 5.0),
        ("workload", "likert", 0.0, 4.0),
    ]
    keys = dict(con.execute("select _line_number, respondent_key from raw.survey_responses").fetchall())
    # the hidden email, hashed with the salt, compared lower-cased
    assert keys[2] == respondent_key(SALT, "pulse_tf", "bob@example.com")
    assert keys[12] == respondent_key(SALT, "pulse_tf", "dave@example.com")
    assert keys[10] == stable_hash("anonymous", "pulse_tf", SOURCE, "10")
    assert con.execute(
        "select distinct survey_format, _source_file from raw.survey_responses"
    ).fetchall() == [("typeform", SOURCE)]


def test_an_answer_outside_the_forms_scale_is_quarantined(con, tmp_path, httpserver):
    serve(httpserver)
    load(con, tmp_path, httpserver)
    rows = con.execute(
        "select locator, reason, payload from raw.rejected_records where source = 'surveys'"
    ).fetchall()
    assert rows == [
        (
            f"{SOURCE}:6",
            f'{SOURCE}:6: answer to "My workload is sustainable." is outside the scale 0–4: 6',
            json.dumps(
                {
                    "Which team are you on?": "Platform",
                    "My workload is sustainable.": "6",
                    "I have the tools I need to do my job *well*.": "4",
                    "How likely are you to recommend working on your team to a friend?": "8",
                },
                ensure_ascii=False,
            ),
        )
    ]


def test_no_identity_token_or_salt_is_stored_or_logged(con, tmp_path, httpserver, caplog):
    caplog.set_level(logging.DEBUG)
    serve(httpserver)
    load(con, tmp_path, httpserver)
    secrets = [
        SALT.value,
        TOKEN,
        "@example.com",
        "Lindqvist",
        "Okafor",
        "Moreau",
        "Quentin",  # named in a free-text comment
        *(i["metadata"]["network_id"] for i in RESPONSES["items"]),
    ]
    # Response tokens link back to the respondent in Typeform: never stored
    # (they do travel in the `before` query string, so the test server logs them).
    tokens = [i["token"] for i in RESPONSES["items"]]
    columns = con.execute(
        "select table_schema, table_name, column_name from information_schema.columns"
        " where data_type in ('VARCHAR', 'JSON')"
    ).fetchall()
    stored = "\n".join(
        str(v)
        for schema, table, column in columns
        for (v,) in con.execute(f'select "{column}" from "{schema}"."{table}"').fetchall()
    )
    assert [s for s in [*secrets, *tokens] if s.lower() in stored.lower()] == []
    assert [s for s in secrets if s.lower() in caplog.text.lower()] == []
    assert "1 responses never submitted, ignored" in caplog.text


def test_a_rerun_replaces_the_form_and_drops_deleted_responses(con, tmp_path, httpserver):
    serve(httpserver)
    load(con, tmp_path, httpserver)
    httpserver.clear()
    # Ann asked for her response to be deleted in Typeform; max's was fixed
    items = copy.deepcopy([i for i in RESPONSES["items"] if i["hidden"].get("email") != "ann@example.com"])
    max_answer = next(i for i in items if i["hidden"].get("email") == "max@example.com")["answers"][1]
    max_answer["number"] = 4
    serve(httpserver, items)
    stats = load(con, tmp_path, httpserver, run_id="run-2")
    assert (stats.rows_landed, stats.rows_rejected) == (10, 0)
    counts = con.execute(
        "select (select count(*) from raw.survey_responses), (select count(*) from raw.survey_answers),"
        " (select count(*) from raw.rejected_records)"
    ).fetchall()
    assert counts == [(10, 30, 0)]
    ann = respondent_key(SALT, "pulse_tf", "ann@example.com")
    assert con.execute(
        "select count(*) from raw.survey_responses where respondent_key = ?", [ann]
    ).fetchall() == [(0,)]


def test_form_title_without_a_wave_names_the_form(con, tmp_path, httpserver):
    serve(httpserver)
    quarterly = SurveyMapping.from_dict({**PULSE.__dict__, "likert": [], "wave_pattern": r"(\d{4}-H[12])"})
    with pytest.raises(SourceError, match=rf"{SOURCE}: survey 'pulse_tf': form title does not match"):
        load(con, tmp_path, httpserver, mappings=(quarterly,))


def test_api_errors_name_the_survey_never_the_token(con, tmp_path, httpserver):
    httpserver.expect_request(f"/forms/{FORM_ID}").respond_with_json(
        {
            "code": "AUTHENTICATION_FAILED",
            "description": "Authentication credentials not found on the Request Headers",
        },
        status=401,
    )
    with pytest.raises(SourceError) as error:
        load(con, tmp_path, httpserver)
    assert "pulse_tf" in str(error.value) and "HTTP 401" in str(error.value)
    assert TOKEN not in str(error.value)


def test_a_typeform_survey_without_a_token_fails_loudly(con, tmp_path):
    with pytest.raises(SourceError, match="pulse_tf: a typeform survey needs TYPEFORM_TOKEN"):
        land_surveys(con, RawLoader(con, "run-1"), tmp_path / "surveys", (PULSE,), SALT)


def test_connector_from_the_environment(tmp_path):
    env = {
        "TYPEFORM_TOKEN": TOKEN,
        "TYPEFORM_API_URL": "http://127.0.0.1:9/",
        "PRODUCTOPS_SALT": "s",
        "PRODUCTOPS_CONFIG": str(tmp_path / "none.toml"),
    }
    settings = load_settings(env)
    assert settings.typeform == TypeformSettings("http://127.0.0.1:9", Secret(TOKEN))
    built = typeform_connector(settings)
    assert built is not None
    assert built.session.base_url == "http://127.0.0.1:9"
    assert built.session.session.headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in repr(settings)


def test_the_surveys_asset_lands_a_typeform_survey_without_a_landing_folder(
    httpserver, tmp_path, monkeypatch
):
    import dagster as dg

    from orchestration.defs.sources import source_assets
    from orchestration.resources import WarehouseResource

    serve(httpserver)
    config = tmp_path / "productops.toml"
    config.write_text(
        "[[surveys]]\n"
        'id = "pulse_tf"\nformat = "typeform"\nform_id = "Xk3pQ9"\n'
        "wave_pattern = '(\\d{4}-Q[1-4])'\n"
        'respondent_question = "email"\nteam_question = "team"\nrecommend_question = "enps"\n',
        encoding="utf-8",
    )
    for name in ("JIRA_BASE_URL", "GITHUB_REPOS", "OKTA_ORG_URL", "LINEAR_API_KEY", "DAGSTER_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TYPEFORM_TOKEN", TOKEN)
    monkeypatch.setenv("TYPEFORM_API_URL", httpserver.url_for("/"))
    monkeypatch.setenv("PRODUCTOPS_SALT", SALT.value)
    monkeypatch.setenv("PRODUCTOPS_CONFIG", str(config))
    monkeypatch.setenv("PRODUCTOPS_LANDING_DIR", str(tmp_path / "landing"))  # no surveys/ in it
    monkeypatch.setenv("PRODUCTOPS_WAREHOUSE", str(tmp_path / "w.duckdb"))
    surveys = next(a for a in source_assets if dg.AssetKey(["surveys", "responses"]) in a.keys)
    result = dg.materialize([surveys], resources={"warehouse": WarehouseResource()})
    assert result.success
    metadata = result.asset_materializations_for_node("surveys_raw")[0].metadata
    assert (metadata["enabled"].value, metadata["rows_landed"].value, metadata["rows_rejected"].value) == (
        True,
        11,  # no Likert item mapped: Max's out-of-scale workload is not read
        0,
    )
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw.survey_responses").fetchall() == [(11,)]
