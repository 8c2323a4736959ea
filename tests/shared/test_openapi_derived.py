"""Plain FastAPI routes validate clean: operation ids come from handler names, and each
route's error responses from what it really has (auth dependencies, path parameters,
parameters or a body, rate limits, dependencies that can be unavailable)."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI
from opsconductor_conformance import assert_conforms
from opsconductor_contracts import Identity, Role
from opsconductor_shared import (
    CurrentUser,
    NotFoundError,
    OptionalUser,
    PaginatedResponse,
    PaginationQuery,
    ServiceSettings,
    create_service_app,
    error_responses,
    raises_errors,
    require_admin,
    require_role,
)
from opsconductor_shared.ratelimit import (
    RateLimitSettings,
    RouteLimitSettings,
    install_rate_limiting,
    rate_limit,
)
from pydantic import BaseModel

PUBLIC = {"x-public": True}
Operator = Annotated[Identity, Depends(require_role(Role.operator))]


class Widget(BaseModel):
    id: int
    name: str


class WidgetIn(BaseModel):
    name: str


@raises_errors(404)
async def existing_widget(widget_id: int) -> Widget:
    raise NotFoundError("Widget", widget_id)


def new_app(**settings: Any) -> FastAPI:
    return create_service_app(
        "widgets-service", "1.0.0", ServiceSettings(**settings), configure_logging=False
    )


def widgets(app: FastAPI) -> FastAPI:
    """Plain routes: no operation_id=, no responses=."""

    @app.get("/widgets")
    async def list_widgets(_: CurrentUser, page: PaginationQuery) -> PaginatedResponse[Widget]:
        return PaginatedResponse[Widget].from_offset(
            [], page=page.page, per_page=page.per_page, total_items=0
        )

    @app.get("/widgets/{widget_id}")
    async def get_widget(widget_id: int, _: CurrentUser) -> Widget:
        raise NotFoundError("Widget", widget_id)

    @app.post("/widgets", status_code=201, dependencies=[Depends(rate_limit("5/minute"))])
    async def createWidget(body: WidgetIn, _: Operator) -> Widget:  # noqa: N802 - camelCase on purpose
        return Widget(id=1, name=body.name)

    @app.delete("/widgets/{widget_id}", status_code=204, dependencies=[Depends(require_admin)])
    async def delete_widget(widget_id: int) -> None:
        return None

    @app.get("/ping", openapi_extra=PUBLIC)
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    return app


def operations(app: FastAPI) -> dict[tuple[str, str], dict[str, Any]]:
    document = app.openapi()
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


def statuses(operation: dict[str, Any]) -> set[str]:
    return set(operation["responses"])


def test_plain_routes_validate_clean_and_strict() -> None:
    app = new_app()
    install_rate_limiting(app, RateLimitSettings(default_limit="600/minute"))
    report = assert_conforms(widgets(app), strict=True)
    assert list(report.findings) == []


def test_operation_ids_are_the_handler_names_in_snake_case() -> None:
    found = {key: op["operationId"] for key, op in operations(widgets(new_app())).items()}
    assert found[("GET", "/widgets")] == "list_widgets"
    assert found[("GET", "/widgets/{widget_id}")] == "get_widget"
    assert found[("POST", "/widgets")] == "create_widget"
    assert found[("DELETE", "/widgets/{widget_id}")] == "delete_widget"
    assert found[("GET", "/ping")] == "ping"
    assert found[("GET", "/health/live")] == "health_live"


def test_each_route_documents_the_errors_it_can_give() -> None:
    ops = operations(widgets(new_app()))
    assert statuses(ops[("GET", "/widgets")]) == {"200", "401", "403", "422", "503"}
    assert statuses(ops[("GET", "/widgets/{widget_id}")]) == {
        "200", "401", "403", "404", "422", "503",
    }  # fmt: skip
    assert statuses(ops[("POST", "/widgets")]) == {
        "201", "400", "401", "403", "422", "429", "503",
    }  # fmt: skip
    assert statuses(ops[("DELETE", "/widgets/{widget_id}")]) == {
        "204", "401", "403", "404", "422", "503",
    }  # fmt: skip
    assert statuses(ops[("GET", "/ping")]) == {"200"}
    problem = {"$ref": "#/components/schemas/ErrorResponse"}
    for operation in ops.values():
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")) and "health" not in operation["operationId"]:
                assert response["content"]["application/problem+json"]["schema"] == problem, (
                    operation["operationId"],
                    status,
                )


def test_a_service_wide_limit_documents_429_except_on_exempt_routes() -> None:
    app = new_app()
    install_rate_limiting(
        app,
        RateLimitSettings(
            default_limit=None,
            routes=[RouteLimitSettings(path="/widgets/{widget_id}", methods=["GET"], limit="9/s")],
        ),
    )
    ops = operations(widgets(app))
    assert "429" in statuses(ops[("GET", "/widgets/{widget_id}")])
    assert "429" not in statuses(ops[("DELETE", "/widgets/{widget_id}")])
    assert "429" not in statuses(ops[("GET", "/widgets")])

    app = new_app()
    install_rate_limiting(app, RateLimitSettings(default_limit="100/minute"))
    ops = operations(widgets(app))
    assert "429" in statuses(ops[("GET", "/ping")])
    assert "429" not in statuses(ops[("GET", "/health/live")])
    assert "429" not in statuses(ops[("GET", "/health/ready")])


def test_a_closed_failure_policy_on_redis_documents_503() -> None:
    app = new_app()
    install_rate_limiting(
        app,
        RateLimitSettings(default_limit="100/minute", storage="redis", failure_policy="closed"),
    )
    ops = operations(widgets(app))
    assert {"429", "503"} <= statuses(ops[("GET", "/ping")])
    app = new_app()
    install_rate_limiting(app, RateLimitSettings(default_limit="100/minute", storage="redis"))
    assert "503" not in statuses(operations(widgets(app))[("GET", "/ping")])


def test_declared_errors_of_a_services_own_dependency_and_handler() -> None:
    app = new_app()

    @app.get("/by-query", openapi_extra=PUBLIC)
    async def by_query(widget: Annotated[Widget, Depends(existing_widget)]) -> Widget:
        return widget

    @app.post("/claims", openapi_extra=PUBLIC)
    @raises_errors(409, 412)
    async def claim() -> dict[str, str]:
        return {}

    ops = operations(app)
    assert statuses(ops[("GET", "/by-query")]) == {"200", "404", "422"}
    assert statuses(ops[("POST", "/claims")]) == {"200", "409", "412"}
    with pytest.raises(ValueError, match="not an error status"):
        raises_errors(200)


def test_an_optional_user_documents_401_and_503_but_no_403() -> None:
    app = new_app()

    @app.get("/maybe", openapi_extra=PUBLIC)
    async def maybe(user: OptionalUser) -> dict[str, str | None]:
        return {"user": user.user_id if user else None}

    assert {"401", "503"} <= statuses(operations(app)[("GET", "/maybe")])


def test_what_a_route_documents_itself_wins() -> None:
    app = new_app()
    mine = {404: {**error_responses(404)[404], "description": "No such widget, or hidden."}}

    @app.get("/widgets/{widget_id}", responses=mine, operation_id="fetch", openapi_extra=PUBLIC)
    async def get_widget(widget_id: int) -> Widget:
        raise NotFoundError("Widget", widget_id)

    operation = operations(app)[("GET", "/widgets/{widget_id}")]
    assert operation["operationId"] == "fetch"
    assert operation["responses"]["404"]["description"] == "No such widget, or hidden."


def test_a_collision_is_an_error_naming_both_routes() -> None:
    app = new_app()
    v2 = APIRouter(prefix="/v2")

    @app.get("/widgets", openapi_extra=PUBLIC)
    async def list_widgets() -> list[int]:
        return []

    @v2.get("/widgets", name="list_widgets", openapi_extra=PUBLIC)
    async def list_widgets_v2() -> list[int]:
        return []

    app.include_router(v2)
    message = (
        r"operation id 'list_widgets' of GET /v2/widgets \(list_widgets_v2 at .*test_openapi_"
        r"derived.py:\d+\) is also the one of GET /widgets \(list_widgets at .*:\d+\); .*"
        r"rename one handler"
    )
    with pytest.raises(ValueError, match=message):
        app.openapi()


def test_an_explicit_operation_id_colliding_with_a_derived_one() -> None:
    app = new_app()

    @app.get("/a", openapi_extra=PUBLIC)
    async def ping() -> None:
        return None

    @app.get("/b", operation_id="ping", openapi_extra=PUBLIC)
    async def other() -> None:
        return None

    with pytest.raises(ValueError, match=r"'ping' of GET /b .* GET /a"):
        app.openapi()


def test_a_handler_named_like_a_runtime_route_collides() -> None:
    app = new_app()

    @app.get("/status", openapi_extra=PUBLIC)
    async def health_live() -> None:
        return None

    with pytest.raises(ValueError, match="'health_live'"):
        app.openapi()


@pytest.mark.anyio
async def test_a_collision_stops_the_app_at_startup() -> None:
    app = new_app()

    @app.get("/a", openapi_extra=PUBLIC)
    async def same() -> None:
        return None

    @app.post("/b", name="same", openapi_extra=PUBLIC)
    async def other() -> None:
        return None

    with pytest.raises(ValueError, match="operation id 'same' of POST /b"):
        async with app.router.lifespan_context(app):
            pass


def test_a_route_the_runtime_shadows_is_not_a_collision() -> None:
    # A migrated service's own GET /health is never served (the runtime answers it) nor
    # documented: its handler's name collides with nothing.
    app = new_app()

    @app.get("/health", openapi_extra=PUBLIC)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    operation = operations(app)[("GET", "/health")]
    assert operation["operationId"] == "health"
    assert "HealthResponse" in str(operation["responses"]["200"])
