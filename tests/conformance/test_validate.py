"""Real FastAPI apps: one documented the contract way validates clean; FastAPI's defaults do not.

The runtime's app factory (issue 3) will produce the compliant shape by itself; until then the
compliant app below documents everything by hand, exactly as the factory is expected to:
`info.x-opsconductor-contracts`, errors (422 included) as ErrorResponse, pages, liveness and
readiness routes marked `x-public`, a security scheme, snake_case operation ids.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import Depends, FastAPI, Query
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from opsconductor_conformance import (
    Severity,
    SourceError,
    assert_conforms,
    validate_document,
)
from opsconductor_contracts import CONTRACTS_VERSION, ErrorResponse, HealthResponse
from opsconductor_shared import PaginatedResponse
from pydantic import BaseModel, Field

PROBLEM: dict[str, Any] = {
    "model": ErrorResponse,
    "description": "An error, in the shared envelope.",
    "content": {"application/problem+json": {}},
}
PUBLIC = {"x-public": True}


class Target(BaseModel):
    id: int = Field(ge=1)
    name: str = Field(min_length=1, max_length=128)


class TargetCreate(BaseModel):
    name: str = Field(min_length=1, max_length=128)


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return dict.fromkeys((401, 403, 422, 500, *codes), PROBLEM)


def _unique_id(route: APIRoute) -> str:
    return route.name


def compliant_app() -> FastAPI:
    bearer = HTTPBearer(auto_error=False)
    app = FastAPI(title="targets-service", version="1.4.2", generate_unique_id_function=_unique_id)

    @app.get("/health/live", response_model=HealthResponse, openapi_extra=PUBLIC)
    def liveness() -> Any: ...

    @app.get(
        "/health/ready",
        response_model=HealthResponse,
        openapi_extra=PUBLIC,
        responses={503: {"model": HealthResponse, "description": "Not ready."}},
    )
    def readiness() -> Any: ...

    @app.get(
        "/targets",
        response_model=PaginatedResponse[Target],
        responses=_errors(),
        dependencies=[Depends(bearer)],
    )
    def list_targets(
        page: int = Query(1, ge=1),
        per_page: int = Query(50, ge=1, le=1000),
        page_token: str | None = Query(None, max_length=2048),
    ) -> Any: ...

    @app.post(
        "/targets",
        response_model=Target,
        status_code=201,
        responses=_errors(409),
        dependencies=[Depends(bearer)],
    )
    def create_target(body: TargetCreate) -> Any: ...

    @app.get(
        "/targets/{target_id}",
        response_model=Target,
        responses=_errors(404),
        dependencies=[Depends(bearer)],
    )
    def get_target(target_id: int) -> Any: ...

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
            schema["info"]["x-opsconductor-contracts"] = CONTRACTS_VERSION
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def default_app() -> FastAPI:
    """The same API with FastAPI's defaults: default 422, no documented errors, no marks."""
    app = FastAPI(title="targets-service", version="1.4.2")

    @app.get("/health/live", response_model=HealthResponse)
    def liveness() -> Any: ...

    @app.get("/health/ready", response_model=HealthResponse)
    def readiness() -> Any: ...

    @app.get("/targets", response_model=PaginatedResponse[Target])
    def list_targets(page: int = 1, per_page: int = 50) -> Any: ...

    @app.post("/targets", response_model=Target, status_code=201)
    def create_target(body: TargetCreate) -> Any: ...

    @app.get("/targets/{target_id}", response_model=Target)
    def get_target(target_id: int) -> Any: ...

    return app


def test_compliant_fastapi_app_validates_clean() -> None:
    report = assert_conforms(compliant_app(), strict=True)
    assert report.findings == ()
    components = compliant_app().openapi()["components"]["schemas"]
    assert "PaginatedResponse_Target_" in components
    assert "HTTPValidationError" not in components


def test_default_handlers_fail_validation_envelope() -> None:
    report = validate_document(default_app())
    failing = {f.rule for f in report.findings if f.severity is Severity.ERROR}
    assert failing == {"validation-envelope"}
    pointers = sorted(f.pointer for f in report.findings if f.rule == "validation-envelope")
    assert pointers == [
        "/paths/~1targets/get/responses/422/content/application~1json/schema",
        "/paths/~1targets/post/responses/422/content/application~1json/schema",
        "/paths/~1targets~1{target_id}/get/responses/422/content/application~1json/schema",
    ]
    warned = {f.rule for f in report.findings if f.severity is Severity.WARNING}
    assert warned == {"security-declared", "documented-errors", "operation-id", "contracts-version"}


def test_assert_conforms_message_lists_the_findings() -> None:
    with pytest.raises(AssertionError) as caught:
        assert_conforms(default_app())
    message = str(caught.value)
    assert "validation-envelope" in message
    assert "/paths/~1targets/post/responses/422/content/application~1json/schema" in message
    assert "HTTPValidationError" in message


def test_assert_conforms_strict_and_rule_selection() -> None:
    app = default_app()
    assert_conforms(app, rules=["pagination", "health-endpoint", "component-compat"], strict=True)
    with pytest.raises(AssertionError, match="operation-id"):
        assert_conforms(app, rules=["operation-id"], strict=True)


def test_assert_conforms_accepts_documents_and_paths(tmp_path: Any) -> None:
    document = compliant_app().openapi()
    assert_conforms(document)
    with pytest.raises(SourceError, match="not an OpenAPI"):
        assert_conforms({"hello": "world"})
