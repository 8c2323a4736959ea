"""SecurityHeadersMiddleware: the API set, HSTS by profile, docs CSP, kept Cache-Control."""

from __future__ import annotations

from fastapi.testclient import TestClient
from opsconductor_shared.middleware.security_headers import API_CSP, DOCS_CSP

from tests.shared.apps import make_app

EXPECTED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "cross-origin-resource-policy": "same-origin",
    "content-security-policy": API_CSP,
    "strict-transport-security": "max-age=31536000; includeSubDomains",
}
DOCUMENT_ONLY = (
    "x-frame-options",
    "cross-origin-opener-policy",
    "permissions-policy",
    "x-permitted-cross-domain-policies",
)
NOT_FOR_JSON = ("cross-origin-embedder-policy", *DOCUMENT_ONLY)


def test_production_api_headers() -> None:
    response = TestClient(make_app()).get("/items/1")
    for name, value in EXPECTED.items():
        assert response.headers[name] == value, name
    for name in NOT_FOR_JSON:
        assert name not in response.headers


def test_development_drops_hsts() -> None:
    response = TestClient(make_app(environment="development")).get("/items/1")
    assert "strict-transport-security" not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"


def test_docs_get_a_csp_that_lets_swagger_ui_load() -> None:
    client = TestClient(make_app())
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert docs.headers["content-security-policy"] == DOCS_CSP
    assert "https://cdn.jsdelivr.net" in DOCS_CSP
    assert "cross-origin-embedder-policy" not in docs.headers
    for name in DOCUMENT_ONLY:
        assert name in docs.headers
    assert client.get("/openapi.json").headers["content-security-policy"] == API_CSP


def test_route_cache_control_is_kept_and_server_removed() -> None:
    response = TestClient(make_app()).get("/cached")
    assert response.headers["cache-control"] == "max-age=60"
    assert "server" not in response.headers
