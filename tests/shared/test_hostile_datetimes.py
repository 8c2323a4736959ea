"""Date-time query parameters (the shared `FilterParams`) are RFC 3339 strings, nothing else:
pydantic's lax mode read `updated_before=0.5` as a Unix timestamp, and a date alone or a space
for the `T` as a date-time, though the schema says `format: date-time` (issue 13)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from opsconductor_shared import AuthSettings
from opsconductor_shared.testing import app_client

from examples.targets_service.app import create_app
from examples.targets_service.settings import TargetsSettings

pytestmark = pytest.mark.anyio
FIELDS = ("created_after", "created_before", "updated_after", "updated_before")
NOT_RFC3339 = [
    "0.5",
    "0",
    "1700000000",
    "-1",
    "1e3",
    "2026-01-15",
    "2026-01-15 10:30:00Z",
    "2026-01-15T10:30:00",
    "2026-01-15T10:30Z",
    "20260115T103000Z",
    "2026-01-15T10:30:00+0200",
    "2026-01-15T10:30:00Z ",
    "now",
]
DETAIL = "must be an RFC 3339 date-time with an offset, such as 2026-05-20T08:30:00Z"
RFC3339 = [
    "2026-01-15T10:30:00Z",
    "2026-01-15T10:30:00.123456Z",
    "2026-01-15T10:30:00+02:00",
    "2026-01-15t10:30:00z",
    "2026-01-15T10:30:00.5-05:30",
]


def _app(auth_settings: AuthSettings) -> FastAPI:
    return create_app(TargetsSettings(auth=auth_settings, cursor_secret="t", database=None))


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("value", NOT_RFC3339)
async def test_a_date_time_parameter_that_is_not_rfc3339_is_422(
    auth_settings: AuthSettings,
    auth_headers: Callable[..., dict[str, str]],
    field: str,
    value: str,
) -> None:
    async with app_client(_app(auth_settings)) as http:
        answer = await http.get("/targets", params={field: value}, headers=auth_headers())
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert [error["field"] for error in problem["errors"]] == [field]
    assert [error["code"] for error in problem["errors"]] == ["date_time_format"]
    # a fixed sentence, so nothing the client sent comes back
    assert problem["errors"][0]["detail"] == DETAIL
    assert value.strip() not in problem["detail"] or value.strip() in DETAIL


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("value", RFC3339)
async def test_an_rfc3339_date_time_is_accepted(
    auth_settings: AuthSettings,
    auth_headers: Callable[..., dict[str, str]],
    field: str,
    value: str,
) -> None:
    async with app_client(_app(auth_settings)) as http:
        answer = await http.get("/targets", params={field: value}, headers=auth_headers())
    assert answer.status_code == 200, answer.text


def test_the_document_still_says_date_time(auth_settings: AuthSettings) -> None:
    document = _app(auth_settings).openapi()
    parameters = {p["name"]: p for p in document["paths"]["/targets"]["get"]["parameters"]}
    for field in FIELDS:
        schema = parameters[field]["schema"]
        formats = [s.get("format") for s in schema.get("anyOf", [schema])]
        assert "date-time" in formats, schema
