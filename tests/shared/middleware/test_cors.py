"""CORS: safe defaults, never a wildcard with credentials."""

from __future__ import annotations

import pydantic
import pytest
from fastapi.testclient import TestClient
from opsconductor_shared import CORSSettings
from opsconductor_shared.middleware import cors_middleware_options

from tests.shared.apps import make_app

PREFLIGHT = {"Origin": "https://ops.example.com", "Access-Control-Request-Method": "POST"}


def test_production_default_allows_no_origin() -> None:
    response = TestClient(make_app()).options("/items", headers=PREFLIGHT)
    assert "access-control-allow-origin" not in response.headers


def test_configured_origin_with_credentials() -> None:
    cors = {"allow_origins": ["https://ops.example.com"], "allow_credentials": True}
    client = TestClient(make_app(cors=cors))
    allowed = client.options("/items", headers=PREFLIGHT)
    assert allowed.headers["access-control-allow-origin"] == "https://ops.example.com"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    refused = client.options("/items", headers={**PREFLIGHT, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in refused.headers
    assert allowed.headers["x-request-id"]


def test_development_allows_any_origin_without_credentials() -> None:
    response = TestClient(make_app(environment="development")).get(
        "/items/1", headers={"Origin": "http://localhost:5173"}
    )
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers


def test_wildcard_with_credentials_is_refused() -> None:
    with pytest.raises(ValueError, match="wildcard origin with credentials"):
        cors_middleware_options(allow_origins=["*"], allow_credentials=True)
    with pytest.raises(pydantic.ValidationError, match="wildcard origin with credentials"):
        CORSSettings(allow_origins=["*"], allow_credentials=True)


@pytest.mark.parametrize(
    "origin", ["ops.example.com", "https://ops.example.com/", "https://ops.example.com/app"]
)
def test_origins_must_be_origins(origin: str) -> None:
    with pytest.raises(ValueError, match="is not an origin"):
        cors_middleware_options(allow_origins=[origin])
