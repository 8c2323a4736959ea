"""Benchmarks of the contract tooling: `validate` on a large synthetic document, `breaking`,
`validate` on a Stripe-class real document beside Spectral's `spectral:oas` lint of the same
file, and the command's start-up on a 1 KB document.

`run(quick)` returns result rows for the shared bench driver; `python bench/bench_contracts.py`
prints them as JSON. `build_synthetic_document` is reusable (the tests use it too). The
Stripe-class document is `find_stripe_document()`'s: the git corpus's Stripe specification when
this machine has that local copy (`bench.corpus.find_documents`), else the registry corpus's
(`make corpus`, `bench.registry_corpus`), which every machine can fetch. Spectral comes from
`make bench-tools` (`bench/.work/spectral`, a local npm install). Without either, their rows
say so.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Mapping
from dataclasses import dataclass
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

from bench.common import row
from bench.corpus import Capped, Document, Sources, find_documents, read_sources, run_capped, unpack
from bench.registry_corpus import find_registry, read_registry

VALIDATE_TARGET_S = 2.0
BREAKING_TARGET_S = 1.0
STRIPE_TARGET_S = 10.0
STRIPE_TARGET_MIB = 1024.0
STARTUP_TARGET_S = 0.3
STRIPE_DOCUMENT = "stripe-spec3-2022-04-12.json.xz"
"""The git corpus's Stripe specification (SOURCES.md): 4.2 MB, 561 components."""
REGISTRY_STRIPE_DOCUMENT = "stripe.com.json.xz"
"""The registry corpus's (REGISTRY.md): APIs.guru's copy of Stripe's spec3, 2.5 MB, 775 components."""
ROOT = Path(__file__).resolve().parent.parent
SPECTRAL = ROOT / "bench" / ".work" / "spectral" / "node_modules" / ".bin" / "spectral"
# 1 KB: one public operation, its components, nothing else (what start-up costs, not checking).
SMALL_DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "tiny", "version": "1.0.0", "x-opsconductor-contracts": "1.0.0"},
    "paths": {
        "/ping": {
            "get": {
                "operationId": "ping",
                "x-public": True,
                "security": [],
                "responses": {
                    "200": {
                        "description": "pong",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        }
    },
}


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
                "details": {
                    "anyOf": [
                        {"type": "object", "additionalProperties": {"type": "integer"}},
                        {"type": "null"},
                    ]
                },
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
        *_stripe_rows(quick),
        _startup_row(quick),
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


def _cli() -> str:
    return str(Path(sys.executable).with_name("opsconductor-contracts"))


@dataclass(frozen=True, kw_only=True)
class CorpusDocument:
    """One corpus document, where it lies, and which half of the corpus it comes from."""

    sources: Sources
    document: Document
    directory: Path
    corpus: str


def find_stripe_document(environ: Mapping[str, str] = os.environ) -> CorpusDocument | None:
    """The Stripe-class document to benchmark: the git corpus's when present, else the registry's.

    None when neither half of the corpus is on this machine (`make corpus` fetches the
    registry half).
    """
    directory = find_documents(environ)
    if directory is not None and (directory / STRIPE_DOCUMENT).is_file():
        sources = read_sources()
        return CorpusDocument(
            sources=sources,
            document=sources.document(STRIPE_DOCUMENT),
            directory=directory,
            corpus="git corpus (SOURCES.md)",
        )
    directory = find_registry(environ)
    if directory is not None and (directory / REGISTRY_STRIPE_DOCUMENT).is_file():
        sources = read_registry().sources
        return CorpusDocument(
            sources=sources,
            document=sources.document(REGISTRY_STRIPE_DOCUMENT),
            directory=directory,
            corpus="registry corpus (REGISTRY.md)",
        )
    return None


def _stripe_rows(quick: bool) -> list[dict[str, Any]]:
    """`validate` on the Stripe-class corpus document, and Spectral's lint of the same file."""

    name = "validate Stripe-class document"
    found = find_stripe_document()
    if found is None:
        note = (
            f"skipped: neither the git corpus's {STRIPE_DOCUMENT} nor the registry corpus's "
            f"{REGISTRY_STRIPE_DOCUMENT} is on this machine (make corpus fetches the latter)"
        )
        return [
            row(
                "conformance",
                name,
                "target 10 s",
                "validate",
                STRIPE_TARGET_S,
                0.0,
                "s",
                "< 10 s, < 1 GiB",
                None,
                note,
            ),
        ]
    document = found.document
    with tempfile.TemporaryDirectory(prefix="bench-stripe-") as scratch:
        work = Path(scratch)
        target = unpack(found.sources, document, found.directory, work, "spec3.json")
        ours = [
            run_capped([_cli(), "validate", str(target), "--format", "json"], cwd=work, niceness=0)
            for _ in range(1 if quick else 3)
        ]
        best = min(ours, key=lambda r: r.wall_s)
        peak_mib = max(r.peak_rss_bytes for r in ours) / 2**20
        what = f"{document.file.removesuffix('.xz')} ({found.corpus}), {document.size / 1e6:.1f} MB"
        rows = [
            row(
                "conformance",
                name,
                "target 10 s",
                "opsconductor-contracts validate",
                STRIPE_TARGET_S,
                round(best.wall_s, 3),
                "s",
                "< 10 s",
                best.code in (0, 1) and best.wall_s < STRIPE_TARGET_S,
                f"{what}; exit {best.code}, {best.cpu_s:.2f} s CPU; best of {len(ours)}",
            ),
            row(
                "conformance",
                f"{name}, peak memory",
                "target 1 GiB",
                "opsconductor-contracts validate",
                STRIPE_TARGET_MIB,
                round(peak_mib, 1),
                "MiB",
                "< 1 GiB",
                peak_mib < STRIPE_TARGET_MIB,
                f"{what}; peak RSS of the process",
            ),
        ]
        rows.extend(_spectral_rows(target, work, best, peak_mib, what, quick))
    return rows


def _spectral_lint(target: Path, work: Path, repeat: int) -> tuple[Capped, float, int | None]:
    """Spectral's `spectral:oas` lint of `target`: the fastest run, the peak RSS, its result count.

    The count is None unless Spectral printed its JSON list of results: a run that printed
    nothing (a crash, a ruleset that failed to load) linted nothing and is no comparison.
    """
    ruleset = work / ".spectral.yaml"
    ruleset.write_text('extends: ["spectral:oas"]\n', encoding="utf-8")
    argv = [str(SPECTRAL), "lint", str(target), "--ruleset", str(ruleset), "--format", "json"]
    runs = [run_capped([*argv, "--quiet"], cwd=work, niceness=0) for _ in range(repeat)]
    best = min(runs, key=lambda r: r.wall_s)
    try:
        results = json.loads(best.stdout)
    except ValueError:
        results = None
    count = len(results) if isinstance(results, list) and best.code in (0, 1) else None
    return best, max(r.peak_rss_bytes for r in runs) / 2**20, count


def _spectral_rows(
    target: Path, work: Path, ours: Capped, ours_mib: float, what: str, quick: bool
) -> list[dict[str, Any]]:
    name = "validate Stripe-class document vs Spectral spectral:oas"
    if not SPECTRAL.is_file():
        note = "skipped: Spectral is not installed (make bench-tools installs it into bench/.work)"
        return [
            row(
                "conformance",
                name,
                "spectral lint",
                "validate",
                0.0,
                round(ours.wall_s, 3),
                "s",
                "faster than Spectral",
                None,
                note,
            )
        ]
    repeat = 1 if quick else 3
    spectral, spectral_mib, count = _spectral_lint(target, work, repeat)
    linted = count is not None
    note = (
        f"{what}; Spectral exit {spectral.code}, {count} results, {spectral.cpu_s:.2f} s CPU, "
        f"{spectral_mib:.0f} MiB peak RSS; validate exit {ours.code}, {ours.cpu_s:.2f} s CPU, "
        f"{ours_mib:.0f} MiB; best of {repeat}"
        if linted
        else f"{what}; Spectral linted nothing (exit {spectral.code}): {spectral.stderr.strip()[:200]}"
    )
    return [
        row(
            "conformance",
            name,
            "spectral lint (spectral:oas)",
            "opsconductor-contracts validate",
            round(spectral.wall_s, 3),
            round(ours.wall_s, 3),
            "s",
            "faster than Spectral",
            (ours.wall_s < spectral.wall_s) if linted else None,
            note,
        ),
        row(
            "conformance",
            f"{name}, peak memory",
            "spectral lint (spectral:oas)",
            "opsconductor-contracts validate",
            round(spectral_mib, 1),
            round(ours_mib, 1),
            "MiB",
            "less than Spectral",
            (ours_mib < spectral_mib) if linted else None,
            note,
        ),
    ]


def _startup_row(quick: bool) -> dict[str, Any]:
    # As a wheel install leaves it (pip byte-compiles what it installs): an editable install
    # under PYTHONDONTWRITEBYTECODE, as on this machine, would compile every module on every
    # run and measure the compiler, not the command.
    import compileall

    import opsconductor_conformance

    for package in (Path(opsconductor_conformance.__file__).parent, ROOT / "generated"):
        compileall.compile_dir(package, quiet=1)
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as scratch:
        work = Path(scratch)
        target = work / "openapi.json"
        target.write_text(json.dumps(SMALL_DOCUMENT), encoding="utf-8")
        size = target.stat().st_size
        runs = [
            run_capped([_cli(), "validate", str(target)], cwd=work, niceness=0)
            for _ in range(3 if quick else 10)
        ]
    walls = sorted(r.wall_s for r in runs)
    median = walls[len(walls) // 2]
    return row(
        "conformance",
        "validate start-up on a 1 KB document",
        "target 0.3 s",
        "opsconductor-contracts validate",
        STARTUP_TARGET_S,
        round(median, 3),
        "s",
        "< 0.3 s",
        median < STARTUP_TARGET_S,
        f"{size} bytes; median of {len(runs)} runs of the command, wall clock, byte-compiled as pip installs it; "
        f"CPU {sorted(r.cpu_s for r in runs)[len(runs) // 2]:.2f} s",
    )


def _document_mib(document: dict[str, Any]) -> float:
    return len(json.dumps(document)) / 2**20


if __name__ == "__main__":
    json.dump(run(quick="--quick" in sys.argv), sys.stdout, indent=2)
    sys.stdout.write("\n")
