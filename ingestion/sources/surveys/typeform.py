"""Typeform Responses API: one form's definition and its submitted responses.

`GET /forms/{form_id}` gives the fields (title, stable `ref`, type and, for
`opinion_scale`, `rating` and `nps`, the scale the respondent saw) and the
names of the hidden fields. `GET /forms/{form_id}/responses` lists responses
newest first, at most 1000 a page; `before=<token of the last item>` asks for
the page before it, until a page comes back empty.

Every run reads the whole form again: a survey has thousands of responses at
most, and a full pass is what lets a response deleted in Typeform (a
respondent's erasure request) disappear from the warehouse too.

Quirks: an unanswered question has no entry in `answers`; a response that was
started but never submitted carries `submitted_at` `0001-01-01T00:00:00Z` and
is not a response. The respondent's identity (a hidden field such as `email`,
or an email question) is read like any other column and hashed at once by
`land`; the response token, which Typeform can link back to the person, is
never kept.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ingestion.config import Settings
from ingestion.http import SourceSession, make_session
from ingestion.pages import SourceError
from ingestion.sources.surveys.export import Column, SurveyExport, SurveyRow
from ingestion.sources.surveys.normalise import scrub_emails
from ingestion.timeparse import parse_instant

log = logging.getLogger(__name__)

FORMAT = "typeform"
SOURCE = "typeform"
MAX_PAGE_SIZE = 1000
NEVER_SUBMITTED = datetime(1, 1, 1, tzinfo=UTC)
CONTAINER_TYPES = {"group", "inline_group"}  # fields that hold other fields


def field_scale(field: dict[str, Any]) -> tuple[float, float] | None:
    """The answer range of a scale question, as the form defines it."""
    kind = field.get("type")
    props = field.get("properties") or {}
    if kind == "nps":
        return (0.0, 10.0)
    if kind == "opinion_scale":
        start = 1 if props.get("start_at_one") else 0
        return (float(start), float(start + int(props.get("steps", 11)) - 1))
    if kind == "rating":
        return (1.0, float(props.get("steps", 5)))
    return None


def form_fields(fields: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every answerable field, question groups opened."""
    for field in fields:
        if field.get("type") in CONTAINER_TYPES:
            yield from form_fields((field.get("properties") or {}).get("fields") or [])
        else:
            yield field


def answer_text(answer: dict[str, Any]) -> str:
    """An answer as the text a CSV export would hold in its cell."""
    kind = answer.get("type")
    value = answer.get(kind) if isinstance(kind, str) else None
    if kind == "choice" and isinstance(value, dict):
        return str(value.get("label") or value.get("other") or "")
    if kind == "choices" and isinstance(value, dict):
        labels = [*(value.get("labels") or []), *([value["other"]] if value.get("other") else [])]
        return ", ".join(str(label) for label in labels)
    if kind == "boolean" and isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        return str(value)
    return ""


@dataclass
class TypeformConnector:
    session: SourceSession
    page_size: int = MAX_PAGE_SIZE

    def form(self, form_id: str) -> dict[str, Any]:
        data, response = self.session.json("GET", f"/forms/{form_id}")
        if not isinstance(data, dict) or not isinstance(data.get("fields"), list):
            raise SourceError(SOURCE, response.url, "expected a form definition with fields")
        return data

    def response_pages(self, form_id: str) -> Iterator[list[dict[str, Any]]]:
        """Pages of responses, newest first, going back with `before`."""
        params: dict[str, Any] = {"page_size": min(self.page_size, MAX_PAGE_SIZE)}
        seen: set[str] = set()
        while True:
            data, response = self.session.json("GET", f"/forms/{form_id}/responses", params=params)
            items = data.get("items") if isinstance(data, dict) else None
            if not isinstance(items, list):
                raise SourceError(SOURCE, response.url, "expected a response list with items")
            tokens = [str(item.get("token")) for item in items if isinstance(item, dict)]
            if not items or not set(tokens) - seen:
                return
            seen.update(tokens)
            yield items
            params = {"page_size": params["page_size"], "before": tokens[-1]}


def typeform_connector(settings: Settings) -> TypeformConnector | None:
    """The connector for the configured account, or None without `TYPEFORM_TOKEN`."""
    if settings.typeform is None:
        return None
    session = make_session(
        SOURCE,
        settings.typeform.api_url,
        headers={
            "Authorization": f"Bearer {settings.typeform.token.value}",
            "Accept": "application/json",
        },
    )
    return TypeformConnector(session)


@dataclass(frozen=True)
class TypeformForm:
    title: str
    export: SurveyExport
    never_submitted: int


def read_typeform(connector: TypeformConnector, form_id: str) -> TypeformForm:
    """The form's submitted responses as an export: one column per field (its
    title, `ref` and scale), then one per hidden field; one row per response,
    oldest first, numbered from 1."""
    definition = connector.form(form_id)
    fields = list(form_fields(definition["fields"]))
    hidden = [str(name) for name in definition.get("hidden") or []]
    columns = [
        Column(
            i,
            str(f.get("title", "")),
            ref=str(f.get("ref", "")),
            scale=field_scale(f),
        )
        for i, f in enumerate(fields)
    ]
    positions = {str(f.get("id")): i for i, f in enumerate(fields)}
    columns += [Column(len(fields) + j, name, ref=name) for j, name in enumerate(hidden)]

    submitted: list[tuple[datetime, str, list[str], str | None]] = []
    never_submitted = 0
    for page in connector.response_pages(form_id):
        for item in page:
            cells = [""] * len(columns)
            for answer in item.get("answers") or []:
                position = positions.get(str((answer.get("field") or {}).get("id")))
                if position is not None:
                    cells[position] = answer_text(answer)
            for j, name in enumerate(hidden):
                value = (item.get("hidden") or {}).get(name)
                cells[len(fields) + j] = "" if value is None else str(value)
            text = str(item.get("submitted_at") or "")
            try:
                at, error = parse_instant(text), None
            except ValueError:
                # quarantined by `land`, after the readable ones
                shown = scrub_emails(text[:40])
                at, error = datetime.max.replace(tzinfo=UTC), f'submission time "{shown}" is not a date-time'
            if at == NEVER_SUBMITTED:
                never_submitted += 1
                continue
            submitted.append((at, str(item.get("landed_at") or ""), cells, error))
    submitted.sort(key=lambda r: (r[0], r[1]))
    rows = [
        SurveyRow(n, cells, None if error else at, error)
        for n, (at, _, cells, error) in enumerate(submitted, start=1)
    ]
    export = SurveyExport(FORMAT, columns, rows, line_count=len(rows))
    return TypeformForm(str(definition.get("title", "")), export, never_submitted)
