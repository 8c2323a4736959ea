"""Benchmarks of the contract tooling: `validate` on a large synthetic document, `breaking`.

`run(quick)` returns result rows for the shared bench driver; `python bench/bench_contracts.py`
prints them as JSON. `build_synthetic_document` is reusable (the tests use it too).
"""

from __future__ import annotations

import json
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from opsconductor_conformance import (
    SharedContracts,
    compare_schema_sets,
    document_source,
    load_schema_dir,
    shared_schema_dir,
    validate_sources,
)

VALIDATE_TARGET_S = 2.0
BREAKING_TARGET_S = 1.0
ROOT = Path(__file__).resolve().parent.parent


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def build_synthetic_document(operations: int = 2000, components: int = 3000) -> dict[str, Any]:
    """A large, compliant OpenAPI 3.1 document in FastAPI's spelling.

    `operations` operations over `operations // 4` resources (list, get, create, delete each),
    and at least `components` component schemas: the shared ones, one item, one create body
    and one page per resource, and filler models that nest each other.
    """
    resources = max(1, operations // 4)
    problem = {"$ref": "#/components/responses/Problem"}
    schemas: dict[str, Any] = {
        "ErrorDetail": {
            "type": "object",
            "required": ["pointer", "field", "code", "detail"],
            "properties": {
                k: {"type": "string", "title": k} for k in ("pointer", "field", "code", "detail")
            },
        },
        "ErrorResponse": {
            "type": "object",
            "required": ["type", "title", "status", "detail", "code", "request_id", "timestamp"],
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer", "minimum": 100.0, "maximum": 599.0},
                "detail": {"type": "string"},
                "instance": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                "code": {"type": "string"},
                "request_id": {"type": "string"},
                "timestamp": {"type": "string", "format": "date-time"},
                "errors": {"type": "array", "items": _ref("ErrorDetail")},
            },
        },
        "HealthStatus": {"type": "string", "enum": ["healthy", "degraded", "unhealthy"]},
        "DependencyCheck": {
            "type": "object",
            "required": ["name", "status", "duration_ms"],
            "properties": {
                "name": {"type": "string"},
                "status": _ref("HealthStatus"),
                "duration_ms": {"type": "number"},
                "critical": {"type": "boolean"},
                "message": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            },
        },
        "HealthResponse": {
            "type": "object",
            "required": ["service", "status", "version", "uptime_seconds", "timestamp", "checks"],
            "properties": {
                "service": {"type": "string"},
                "status": _ref("HealthStatus"),
                "version": {"type": "string"},
                "uptime_seconds": {"type": "number"},
                "timestamp": {"type": "string", "format": "date-time"},
                "checks": {"type": "array", "items": _ref("DependencyCheck")},
            },
        },
        "PaginationMeta": {
            "type": "object",
            "required": ["per_page", "has_next", "has_prev"],
            "properties": {
                "page": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                "per_page": {"type": "integer"},
                "total_items": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                "total_pages": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                "has_next": {"type": "boolean"},
                "has_prev": {"type": "boolean"},
                "next_page_token": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            },
        },
    }
    paths: dict[str, Any] = {}
    for index in range(resources):
        item, body, page = (
            f"Resource{index}",
            f"Resource{index}Create",
            f"PaginatedResponse_Resource{index}_",
        )
        schemas[item] = {
            "type": "object",
            "title": item,
            "required": ["id", "name"],
            "properties": {
                "id": {"type": "integer"},
                "name": {"type": "string", "maxLength": 128},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "detail": _ref(f"Filler{index % 500}"),
            },
        }
        schemas[body] = {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string"}},
        }
        schemas[page] = {
            "type": "object",
            "title": f"PaginatedResponse[{item}]",
            "required": ["items", "pagination"],
            "properties": {
                "items": {"type": "array", "items": _ref(item)},
                "pagination": _ref("PaginationMeta"),
            },
        }
        errors = {"401": problem, "403": problem, "422": problem, "500": problem}
        collection, member = f"/resources{index}", f"/resources{index}/{{resource_id}}"
        path_param = [
            {"name": "resource_id", "in": "path", "required": True, "schema": {"type": "integer"}}
        ]
        query = [
            {
                "name": name,
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1},
            }
            for name in ("page", "per_page")
        ]
        paths[collection] = {
            "get": {
                "operationId": f"list_resources{index}",
                "parameters": query,
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {"application/json": {"schema": _ref(page)}},
                    },
                    **errors,
                },
            },
            "post": {
                "operationId": f"create_resource{index}",
                "requestBody": {"content": {"application/json": {"schema": _ref(body)}}},
                "responses": {
                    "201": {
                        "description": "ok",
                        "content": {"application/json": {"schema": _ref(item)}},
                    },
                    **errors,
                },
            },
        }
        paths[member] = {
            "get": {
                "operationId": f"get_resource{index}",
                "parameters": path_param,
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {"application/json": {"schema": _ref(item)}},
                    },
                    "404": problem,
                    **errors,
                },
            },
            "delete": {
                "operationId": f"delete_resource{index}",
                "parameters": path_param,
                "responses": {"204": {"description": "gone"}, "404": problem, **errors},
            },
        }
    filler = 0
    while len(schemas) < components:
        schemas[f"Filler{filler}"] = {
            "type": "object",
            "properties": {
                "value": {"type": "string"},
                "count": {"type": "integer", "minimum": 0.0},
                "next": {"anyOf": [_ref(f"Filler{filler - 1}"), {"type": "null"}]}
                if filler % 10
                else {"type": "null"},
            },
        }
        filler += 1
    for index in range(500):
        schemas.setdefault(f"Filler{index}", {"type": "object"})
    health = {"x-public": True, "security": []}
    paths["/health/live"] = {
        "get": {
            "operationId": "liveness",
            **health,
            "responses": {
                "200": {
                    "description": "ok",
                    "content": {"application/json": {"schema": _ref("HealthResponse")}},
                }
            },
        }
    }
    paths["/health/ready"] = {
        "get": {
            "operationId": "readiness",
            **health,
            "responses": {
                "200": {
                    "description": "ok",
                    "content": {"application/json": {"schema": _ref("HealthResponse")}},
                }
            },
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "synthetic-service",
            "version": "1.0.0",
            "x-opsconductor-contracts": "1.0.0",
        },
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {
                "Problem": {
                    "description": "error",
                    "content": {"application/problem+json": {"schema": _ref("ErrorResponse")}},
                }
            },
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _timed(function: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def _validate(document: dict[str, Any], contracts: SharedContracts) -> Any:
    return validate_sources([document_source(document, location="synthetic")], contracts=contracts)


def run(quick: bool) -> list[dict[str, Any]]:
    """Result rows: validate time and peak memory on the synthetic document, breaking time."""
    repeat = 1 if quick else 3
    document = build_synthetic_document()
    operations = sum(len(item) for item in document["paths"].values())
    components = len(document["components"]["schemas"])
    contracts = SharedContracts.load()
    seconds, report = _timed(lambda: _validate(document, contracts), repeat)
    tracemalloc.start()
    _validate(document, contracts)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    schemas = ROOT / "schemas" if (ROOT / "schemas").is_dir() else shared_schema_dir()
    breaking_seconds, changes = _timed(
        lambda: compare_schema_sets(load_schema_dir(schemas), load_schema_dir(schemas)), repeat
    )
    note = (
        f"{operations} operations, {components} component schemas, {len(report.findings)} findings"
    )
    return [
        {
            "group": "conformance",
            "name": "validate synthetic document",
            "baseline": "target 2 s",
            "contender": "opsconductor-contracts validate",
            "baseline_value": VALIDATE_TARGET_S,
            "contender_value": round(seconds, 4),
            "unit": "s",
            "ratio": round(seconds / VALIDATE_TARGET_S, 4),
            "target": "< 2 s",
            "met": seconds < VALIDATE_TARGET_S,
            "notes": f"{note}; best of {repeat}",
        },
        {
            "group": "conformance",
            "name": "validate synthetic document, peak memory",
            "baseline": "synthetic document size (tracemalloc)",
            "contender": "opsconductor-contracts validate",
            "baseline_value": round(_document_mib(document), 2),
            "contender_value": round(peak / 2**20, 2),
            "unit": "MiB",
            "ratio": round(peak / 2**20 / _document_mib(document), 2),
            "target": "informational",
            "met": True,
            "notes": f"{note}; peak traced allocation during one validation, document already loaded",
        },
        {
            "group": "conformance",
            "name": "breaking on the shared schemas",
            "baseline": "target 1 s",
            "contender": "opsconductor-contracts breaking --against-dir",
            "baseline_value": BREAKING_TARGET_S,
            "contender_value": round(breaking_seconds, 4),
            "unit": "s",
            "ratio": round(breaking_seconds / BREAKING_TARGET_S, 4),
            "target": "< 1 s",
            "met": breaking_seconds < BREAKING_TARGET_S,
            "notes": f"load both schema sets and compare ({len(changes)} changes); best of {repeat}",
        },
    ]


def _document_mib(document: dict[str, Any]) -> float:
    return len(json.dumps(document)) / 2**20


if __name__ == "__main__":
    json.dump(run(quick="--quick" in sys.argv), sys.stdout, indent=2)
    sys.stdout.write("\n")
