"""A wrong method's 405 lists, in `Allow`, every method the path has, across all its routes."""

from __future__ import annotations

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from opsconductor_shared import ServiceSettings, create_service_app

from tests.shared.test_error_envelope import assert_envelope


def _app() -> TestClient:
    app = create_service_app(
        "things", "1.0.0", ServiceSettings(environment="production"), configure_logging=False
    )
    router = APIRouter(prefix="/things")

    @router.get("/{thing_id}")
    async def get_thing(thing_id: int) -> dict[str, int]:
        return {"id": thing_id}

    @router.patch("/{thing_id}")
    async def patch_thing(thing_id: int) -> dict[str, int]:
        return {"id": thing_id}

    @router.delete("/{thing_id}", status_code=204)
    async def delete_thing(thing_id: int) -> None:
        return None

    @router.post("")
    async def create_thing() -> dict[str, int]:
        return {"id": 1}

    app.include_router(router)
    return TestClient(app)


def _allowed(header: str) -> set[str]:
    return {method.strip() for method in header.split(",")}


def test_allow_lists_every_method_of_the_path() -> None:
    response = _app().put("/things/1")
    assert_envelope(response, 405, "METHOD_NOT_ALLOWED")
    assert _allowed(response.headers["allow"]) == {"GET", "PATCH", "DELETE"}


def test_allow_of_the_collection_is_its_own() -> None:
    response = _app().get("/things")
    assert response.status_code == 405
    assert _allowed(response.headers["allow"]) == {"POST"}


@pytest.mark.parametrize("path", ["/health", "/health/live", "/health/ready", "/openapi.json"])
def test_allow_of_a_runtime_route_is_its_own_methods(path: str) -> None:
    # The runtime answers its routes before the service's, for every method; its 405 lists
    # what the route serves (GET, and HEAD when the route adds it), not every method there is.
    response = _app().post(path)
    assert_envelope(response, 405, "METHOD_NOT_ALLOWED")
    assert _allowed(response.headers["allow"]) <= {"GET", "HEAD"}
    assert "GET" in _allowed(response.headers["allow"])
