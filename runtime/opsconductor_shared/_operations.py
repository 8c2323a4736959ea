"""What each route says of itself in the OpenAPI document: its operation id and its errors.

A plain FastAPI route, without `operation_id=` or `responses=`, is documented the way the
contracts want it (`opsconductor-contracts validate --strict` passes):

    @app.get("/targets/{target_id}")
    async def get_target(target_id: int, user: CurrentUser) -> Target: ...

    # operationId get_target; 401 and 503 (the token cannot be verified now) from
    # CurrentUser; 403 (every secured operation); 404 from the path parameter; 422 from the
    # parameters; 429 when a rate limit applies to the route

**Operation ids** are the handler's name (or the route's `name=`) in snake_case:
`create_service_app` makes `operation_id_for` the app's `generate_unique_id_function`, so
`listTargets` becomes `list_targets`. Two operations with one id are an error that names
both (`check_operation_ids`), when the document is built and when the app starts, not a
warning at the end of a log: rename a handler, or pass `name=` or `operation_id=`. An
explicit `operation_id=` is kept as it is.

**Error responses** come from what the route has:

- every dependency or handler marked with `raises_errors(...)`, anywhere in its dependency
  tree (the auth dependencies: 401 and 503 for a token, 403 for a role or permission;
  `rate_limit()`: 429; `get_database`: 503); a service marks its own the same way:

      @raises_errors(404)
      async def existing_target(target_id: TargetId) -> Target: ...

- 404 when its path has parameters;
- what the runtime's policies add (`ServiceRuntime.add_route_errors`): the service-wide
  rate limits of `install_rate_limiting` add 429 to every route they apply to (not the
  exempt ones), and 503 when a Redis store that fails closed can leave them undecided.

FastAPI itself documents 422 for a route with parameters or a body; `_openapi` documents it,
and each of these, with the shared envelope. What a route documents itself (`responses=`)
wins over what is derived.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar, cast

from fastapi import routing
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

__all__ = [
    "RouteErrors",
    "check_operation_ids",
    "check_error_status",
    "declared_errors",
    "operation_id_for",
    "raises_errors",
    "route_errors",
    "schema_routes",
]

RouteErrors = Callable[[APIRoute], Iterable[int]]
"""A policy's errors for one route: the statuses it can answer that route with."""

CallableT = TypeVar("CallableT", bound=Callable[..., Any])
_ERRORS_ATTRIBUTE = "__opsconductor_errors__"
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_WORD = re.compile(r"[^a-z0-9]+")


def check_error_status(status: int | str) -> None:
    """Refuse what is not an error status.

    Raises:
        ValueError: `status` is not 400-599 or `default`.
    """
    if status != "default" and not (isinstance(status, int) and 400 <= status <= 599):
        raise ValueError(f"{status!r} is not an error status (400-599 or 'default')")


def raises_errors(*statuses: int) -> Callable[[CallableT], CallableT]:
    """Mark a dependency (or a handler) as able to answer with these error statuses; every
    route that uses it, however deep in its dependencies, documents them.

        @raises_errors(404)
        async def existing_target(target_id: TargetId) -> Target: ...

    Raises:
        ValueError: a status is not 400-599.
    """
    for status in statuses:
        check_error_status(status)
        if not isinstance(status, int):
            raise ValueError(f"{status!r} is not an error status (400-599)")

    def mark(function: CallableT) -> CallableT:
        declared = frozenset(getattr(function, _ERRORS_ATTRIBUTE, ())) | frozenset(statuses)
        try:
            setattr(function, _ERRORS_ATTRIBUTE, declared)
        except AttributeError as exc:  # a bound method, a builtin
            raise TypeError(
                f"cannot mark {function!r} with raises_errors: mark the function it calls"
            ) from exc
        return function

    return mark


def schema_routes(routes: Iterable[BaseRoute]) -> list[APIRoute]:
    """The routes of the OpenAPI document, those of included routers too, as FastAPI sees
    them (an included route with its router's prefix and dependencies)."""
    iter_route_contexts = getattr(routing, "iter_route_contexts", None)
    if iter_route_contexts is None:  # a FastAPI that copies included routes into the app's
        found = [route for route in routes if isinstance(route, APIRoute)]
    else:
        found = [
            cast("APIRoute", context)
            for context in iter_route_contexts(list(routes))
            if isinstance(context.original_route, APIRoute)
        ]
    return [route for route in found if route.include_in_schema]


def _dependants(root: Dependant) -> Iterator[Dependant]:
    stack, seen = [root], set()
    while stack:
        dependant = stack.pop()
        if id(dependant) in seen:
            continue
        seen.add(id(dependant))
        yield dependant
        stack.extend(dependant.dependencies)


def declared_errors(route: APIRoute) -> set[int]:
    """The statuses marked with `raises_errors` on the route's handler and its dependencies."""
    found: set[int] = set()
    for dependant in _dependants(route.dependant):
        found.update(getattr(dependant.call, _ERRORS_ATTRIBUTE, ()))
    return found


def route_errors(route: APIRoute, policies: Iterable[RouteErrors] = ()) -> set[int]:
    """Every error status `route` can answer with (see the module docstring)."""
    found = declared_errors(route)
    if route.param_convertors:
        found.add(404)
    for policy in policies:
        found.update(policy(route))
    return found


def operation_id_for(route: APIRoute) -> str:
    """The operation id of a route without one: its name (the handler's) in snake_case."""
    words = _NON_WORD.sub("_", _CAMEL.sub("_", route.name).lower()).strip("_")
    if not words:
        return "operation"
    return words if words[0].isalpha() else f"operation_{words}"


def _describe(route: APIRoute, method: str) -> str:
    endpoint = route.endpoint
    name = getattr(endpoint, "__name__", type(endpoint).__name__)
    code = getattr(endpoint, "__code__", None)
    where = f" at {code.co_filename}:{code.co_firstlineno}" if code is not None else ""
    return f"{method} {route.path_format} ({name}{where})"


def check_operation_ids(
    routes: Iterable[BaseRoute], runtime_routes: Iterable[BaseRoute] = ()
) -> None:
    """Refuse two documented operations with one operation id.

    Args:
        routes: the app's routes.
        runtime_routes: the runtime's own, documented too; a route of the app on one of
            their paths and methods is never served nor documented, so it is not checked.

    Raises:
        ValueError: naming the id and both operations, and what to change.
    """
    runtime = schema_routes(runtime_routes)
    shadowed = {(r.path_format, m) for r in runtime for m in r.methods or ()}
    documented = [
        (route, method)
        for route in schema_routes(routes)
        for method in sorted(route.methods or ())
        if (route.path_format, method) not in shadowed
    ] + [(route, method) for route in runtime for method in sorted(route.methods or ())]
    seen: dict[str, tuple[APIRoute, str]] = {}
    for route, method in documented:
        operation_id = route.operation_id or route.unique_id
        first = seen.setdefault(operation_id, (route, method))
        if first[0] is route and first[1] == method:
            continue
        hint = (
            "one route with several methods has one operation id: declare a route per method"
            if first[0] is route
            else "rename one handler, or give one route name= or operation_id="
        )
        raise ValueError(
            f"operation id {operation_id!r} of {_describe(route, method)} is also the one "
            f"of {_describe(*first)}; operation ids must be unique: {hint}"
        )
