"""A service built with the runtime conforms to the contracts; the same API on FastAPI's
defaults does not."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI
from opsconductor_conformance import assert_conforms, validate_document
from opsconductor_contracts import SortParams
from opsconductor_shared import (
    NotFoundError,
    PaginatedResponse,
    PaginationQuery,
    ServiceSettings,
    create_service_app,
    error_responses,
    sort_params,
)
from pydantic import BaseModel

PUBLIC = {"x-public": True}


class Widget(BaseModel):
    id: int
    name: str


def _routes(app: FastAPI, *, documented: bool) -> FastAPI:
    errors = error_responses(404) if documented else {}

    @app.get(
        "/widgets",
        operation_id="list_widgets",
        response_model=PaginatedResponse[Widget],
        openapi_extra=PUBLIC,
    )
    async def list_widgets(
        page: PaginationQuery, order: Annotated[SortParams | None, Depends(sort_params("name"))]
    ) -> Any:
        return PaginatedResponse[Widget].from_offset(
            [], page=page.page, per_page=page.per_page, total_items=0
        )

    @app.get(
        "/widgets/{widget_id}", operation_id="get_widget", responses=errors, openapi_extra=PUBLIC
    )
    async def get_widget(widget_id: int) -> Widget:
        raise NotFoundError("Widget", widget_id)

    @app.post("/widgets", status_code=201, operation_id="create_widget", openapi_extra=PUBLIC)
    async def create_widget(widget: Widget) -> Widget:
        return widget

    return app


def test_runtime_app_validates_clean_and_strict() -> None:
    app = _routes(
        create_service_app("widgets-service", "1.0.0", ServiceSettings(), configure_logging=False),
        documented=True,
    )
    report = assert_conforms(app, strict=True)
    assert list(report.findings) == []


def test_same_api_on_fastapi_defaults_fails_validation_envelope() -> None:
    report = validate_document(_routes(FastAPI(title="widgets-service"), documented=False))
    errors = {finding.rule for finding in report.findings if finding.severity == "error"}
    assert "validation-envelope" in errors
    assert "health-endpoint" in errors
    with pytest.raises(AssertionError, match="validation-envelope"):
        assert_conforms(_routes(FastAPI(title="widgets-service"), documented=False))
