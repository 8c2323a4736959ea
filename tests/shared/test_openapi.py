"""OpenAPI: errors documented with the shared envelope, FastAPI's HTTPValidationError gone."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import Depends, FastAPI
from fastapi.security import HTTPBearer
from opsconductor_conformance import load_schema_dir
from opsconductor_conformance.normalize import normalize_schema, schema_differences
from opsconductor_contracts import CONTRACTS_VERSION
from opsconductor_shared import error_responses
from opsconductor_shared._openapi import rewrite_openapi

from tests.conftest import SCHEMAS
from tests.shared.apps import make_app

ENVELOPE = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return make_app().openapi()


def test_422_is_the_envelope(document: dict[str, Any]) -> None:
    for path, method in (("/items/{item_id}", "get"), ("/items", "post"), ("/login", "post")):
        assert document["paths"][path][method]["responses"]["422"]["content"] == ENVELOPE
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert "ValidationError" not in schemas


def test_declared_errors_are_the_envelope(document: dict[str, Any]) -> None:
    assert document["paths"]["/items/{item_id}"]["get"]["responses"]["404"]["content"] == ENVELOPE
    assert document["paths"]["/items"]["post"]["responses"]["409"]["content"] == ENVELOPE


def test_envelope_component_matches_the_contract(document: dict[str, Any]) -> None:
    schemaset = load_schema_dir(SCHEMAS)
    shared_doc, shared = schemaset.components()["ErrorResponse"]
    components = document["components"]["schemas"]

    def resolve(ref: str) -> tuple[Any, Any]:
        return components[ref.rsplit("/", 1)[-1]], resolve

    found = normalize_schema(components["ErrorResponse"], resolve)
    expected = normalize_schema(shared, schemaset.resolver(shared_doc))
    assert [str(d) for d in schema_differences(expected, found)] == []


def test_contracts_version_is_declared(document: dict[str, Any]) -> None:
    assert document["info"]["x-opsconductor-contracts"] == CONTRACTS_VERSION


def test_secured_operations_document_401_and_403() -> None:
    app = make_app()
    bearer = HTTPBearer()

    @app.get("/secret", dependencies=[Depends(bearer)], operation_id="secret")
    async def secret() -> dict[str, str]:
        return {}

    responses = app.openapi()["paths"]["/secret"]["get"]["responses"]
    assert responses["401"]["content"] == ENVELOPE
    assert responses["403"]["content"] == ENVELOPE


def test_error_responses_helper() -> None:
    documented = error_responses(404, 409, "default")
    assert set(documented) == {404, 409, "default"}
    with pytest.raises(ValueError, match="not an error status"):
        error_responses(200)


def test_a_services_own_validation_error_model_is_kept() -> None:
    document = {
        "openapi": "3.1.0",
        "info": {"title": "x", "version": "1"},
        "paths": {
            "/a": {
                "get": {
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/ValidationError"}
                                }
                            },
                        }
                    }
                }
            }
        },
        "components": {"schemas": {"ValidationError": {"type": "object"}}},
    }
    rewritten = rewrite_openapi(document)
    assert "ValidationError" in rewritten["components"]["schemas"]
    assert "ErrorResponse" in rewritten["components"]["schemas"]
    assert document["components"]["schemas"].keys() == {"ValidationError"}  # input untouched


def test_plain_fastapi_is_untouched_by_import() -> None:
    app = FastAPI()

    @app.get("/x/{x}")
    async def x(x: int) -> int:
        return x

    assert "HTTPValidationError" in app.openapi()["components"]["schemas"]
