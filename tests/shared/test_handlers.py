"""A body that is not JSON is reported at `/body`, with a clear code and where parsing
stopped, never as a fake field (`/body/13`) and never echoing what was sent."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from opsconductor_shared import ServiceSettings, create_service_app
from opsconductor_shared._handlers import validation_error_details
from pydantic import BaseModel


class Body(BaseModel):
    name: str


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = create_service_app("json-service", "1", ServiceSettings(), configure_logging=False)

    @app.post("/things", openapi_extra={"x-public": True})
    async def create_thing(body: Body) -> Body:
        return body

    return TestClient(app)


@pytest.mark.parametrize(
    ("raw", "where", "reason"),
    [
        ('{"name": "x",', "line 1, column 14 (character 13)", "Expecting property name"),
        ('{"password": "hunter2" nope}', "line 1, column 24 (character 23)", "Expecting ','"),
        ('{\n  "name": "x"\n  "port": 1\n}', "line 3, column 3 (character 18)", "Expecting ','"),
        ("nope", "line 1, column 1 (character 0)", "Expecting value"),
    ],
)
def test_invalid_json_points_at_the_body(
    client: TestClient, raw: str, where: str, reason: str
) -> None:
    response = client.post("/things", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422
    (problem,) = response.json()["errors"]
    assert (problem["pointer"], problem["field"], problem["code"]) == (
        "/body",
        "body",
        "json_invalid",
    )
    assert problem["detail"].startswith(f"The request body is not valid JSON: {reason}")
    assert problem["detail"].endswith(f"at {where}.")
    for secret in ("hunter2", "nope", "port"):
        assert secret not in response.text


@given(position=st.integers(0, 10_000), text=st.text(max_size=200))
def test_the_position_is_reported_without_the_input(position: int, text: str) -> None:
    (detail,) = validation_error_details(
        [
            {
                "type": "json_invalid",
                "loc": ("body", position),
                "msg": "JSON decode error",
                "ctx": {"error": "Expecting value"},
            }
        ],
        body=text,
    )
    assert (detail.pointer, detail.code) == ("/body", "json_invalid")
    assert f"character {position}" in detail.detail
    secret = text.strip()
    if len(secret) > 12:
        assert secret not in detail.detail
