"""The runtime's own routes: health, readiness, metrics, the OpenAPI document and its pages.

They are answered by the runtime whatever routes a service declares: `RuntimeRoutes` is one
route, the first of the app's router, that finds its routes by an exact lookup of the path
(without the `root_path`) and otherwise does not match. So a service's `GET /{slug}` never
answers `/health`, a request for any other path pays one dictionary lookup for all of them,
and the service's own routes keep the order they were declared in. Any method on one of these
paths is the runtime's to answer (a `POST /health` is its 405).

The documentation pages (`docs_routes`) are FastAPI's Swagger UI and ReDoc pages, built the
way FastAPI builds them (the document's URL behind the `root_path` too), and they set their
own security headers (`document_headers`), so the CSP that lets them load follows them
wherever the app is mounted. The health routes are documented in the app's OpenAPI document
with the service's (see `_openapi`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Match, NoMatchFound, Route
from starlette.types import Receive, Scope, Send

from .middleware.security_headers import document_headers

__all__ = ["RuntimeRoutes", "docs_routes", "route_path"]

_NO_MATCH: tuple[Match, Scope] = (Match.NONE, {})


def route_path(scope: Scope) -> str:
    """The request's path as the app's routes see it: without the `root_path` it is under."""
    path: str = scope["path"]
    root = scope.get("root_path")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] in ("/", ""):
        return path[len(root) :] or "/"
    return path


class RuntimeRoutes(BaseRoute):
    """The runtime's routes, matched by exact path before the service's (see the docstring).

    Args:
        routes: routes with plain paths (no parameters), each path once.
    """

    def __init__(self, routes: Iterable[BaseRoute] = ()) -> None:
        self._by_path: dict[str, BaseRoute] = {}
        for route in routes:
            self.add(route)

    @property
    def routes(self) -> list[BaseRoute]:
        """The routes, in the order they were added."""
        return list(self._by_path.values())

    def add(self, route: BaseRoute) -> None:
        """Answer `route`'s path with `route`.

        Raises:
            ValueError: the path has parameters, or another runtime route has it.
        """
        path = getattr(route, "path", None)
        if not isinstance(path, str) or "{" in path:
            raise ValueError(f"a runtime route needs a plain path, not {path!r}")
        if path in self._by_path:
            raise ValueError(f"the runtime already answers {path}")
        self._by_path[path] = route

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return _NO_MATCH
        route = self._by_path.get(route_path(scope) if scope.get("root_path") else scope["path"])
        if route is None:
            return _NO_MATCH
        _, child_scope = route.matches(scope)  # a method it does not take is its 405
        return Match.FULL, {**child_scope, "route": route}

    def serves(self, scope: Scope) -> bool:
        """Whether one of the routes takes the scope's path *and* method (`matches` claims
        the path for any method, so a wrong method is the runtime's own 405)."""
        route = self._by_path.get(route_path(scope) if scope.get("root_path") else scope["path"])
        return route is not None and route.matches(scope)[0] is Match.FULL

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        route: BaseRoute = scope["route"]
        await route.handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        for route in self._by_path.values():
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                continue
        raise NoMatchFound(name, path_params)

    def __repr__(self) -> str:
        return f"RuntimeRoutes({sorted(self._by_path)})"


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def _document(response: HTMLResponse) -> HTMLResponse:
    response.headers.update(document_headers())
    return response


def docs_routes(
    app: FastAPI,
    *,
    openapi_url: str | None,
    docs_url: str | None,
    redoc_url: str | None,
    oauth2_redirect_url: str | None,
) -> Sequence[BaseRoute]:
    """The OpenAPI document and its Swagger UI and ReDoc pages, as FastAPI serves them."""
    if not openapi_url:
        return []

    async def openapi(request: Request) -> Response:
        document = app.openapi()
        root = _root(request)
        if root and app.root_path_in_servers:
            servers = document.get("servers", [])
            if root not in {server.get("url") for server in servers}:
                document = {**document, "servers": [{"url": root}, *servers]}
        return JSONResponse(document)

    routes: list[BaseRoute] = [Route(openapi_url, openapi, include_in_schema=False)]
    if docs_url:

        async def swagger_ui(request: Request) -> Response:
            root = _root(request)
            return _document(
                get_swagger_ui_html(
                    openapi_url=root + openapi_url,
                    title=f"{app.title} - Swagger UI",
                    oauth2_redirect_url=root + oauth2_redirect_url if oauth2_redirect_url else None,
                    init_oauth=app.swagger_ui_init_oauth,
                    swagger_ui_parameters=app.swagger_ui_parameters,
                )
            )

        routes.append(Route(docs_url, swagger_ui, include_in_schema=False))
        if oauth2_redirect_url:

            async def swagger_ui_redirect(_: Request) -> Response:
                return _document(get_swagger_ui_oauth2_redirect_html())

            routes.append(Route(oauth2_redirect_url, swagger_ui_redirect, include_in_schema=False))
    if redoc_url:

        async def redoc(request: Request) -> Response:
            return _document(
                get_redoc_html(
                    openapi_url=_root(request) + openapi_url, title=f"{app.title} - ReDoc"
                )
            )

        routes.append(Route(redoc_url, redoc, include_in_schema=False))
    return routes
