"""Sending the error envelope: an exception as `application/problem+json`.

Two ways out, one builder (`StandardHTTPException.to_problem`):

- `problem_response(exc, ...)`: a Starlette `ProblemResponse`, for the exception handlers
  and for routes that return an error instead of raising it;
- `send_problem(send, exc, scope)`: the same response through a raw ASGI `send`, for the
  middleware that answer before (or instead of) the app: the body limit, the rate limiter,
  the last-resort handler of the standard layer.

The request id is the current request's (`get_request_id`), the instance its path, the headers
the exception's own (`Retry-After`, `WWW-Authenticate`, ...).

Compatibility mode (`ServiceSettings.legacy_error_member`, off by default): while a service's
callers still read the old envelope, both ways out add its `error` member, `{"code",
"message", "status_code", "path"}`, to the body, an extension member as RFC 9457 allows, so
`body["error"]["code"]` keeps working next to the shared `code`. `render_problem` is the one
place a body is written; the app of the request (`scope["app"]`) says whether the mode is on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from opsconductor_contracts import ErrorResponse
from starlette.background import BackgroundTask
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ._context import UNMATCHED_ROUTE, get_request_id, new_request_id, route_template
from ._errors import StandardHTTPException

__all__ = [
    "LEGACY_ERRORS_EXTENSION",
    "PROBLEM_JSON",
    "ProblemResponse",
    "legacy_error_member_on",
    "problem_instance",
    "problem_response",
    "render_problem",
    "send_problem",
]

PROBLEM_JSON = "application/problem+json"
LEGACY_ERRORS_EXTENSION = "x-opsconductor-legacy-errors"
"""The `info` member of the OpenAPI document of a service in compatibility mode."""
_CONTENT_TYPE = (b"content-type", PROBLEM_JSON.encode())


def render_problem(problem: ErrorResponse, *, legacy: bool = False) -> bytes:
    """The body of `problem`; with `legacy`, with the old `error` member added."""
    if not legacy:
        return problem.model_dump_json().encode()
    body = problem.model_dump(mode="json")
    body["error"] = {
        "code": problem.code,
        "message": problem.detail,
        "status_code": problem.status,
        **({"path": problem.instance} if problem.instance else {}),
    }
    return orjson.dumps(body)


def legacy_error_member_on(scope: Scope) -> bool:
    """Whether the app serving `scope` is in compatibility mode (see the module docstring)."""
    from ._app import get_runtime  # noqa: PLC0415 - _app imports this module

    app = scope.get("app")
    if app is None:
        return False
    try:
        return get_runtime(app).settings.legacy_error_member
    except (RuntimeError, AttributeError):  # not an app of create_service_app
        return False


class ProblemResponse(Response):
    """An `ErrorResponse` served as `application/problem+json` with its status."""

    media_type = PROBLEM_JSON

    def __init__(
        self,
        problem: ErrorResponse,
        headers: Mapping[str, str] | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.problem = problem
        super().__init__(
            problem, status_code=problem.status, headers=headers, background=background
        )

    def render(self, content: Any) -> bytes:
        if not isinstance(content, ErrorResponse):
            raise TypeError(
                f"ProblemResponse renders an ErrorResponse, not {type(content).__name__}"
            )
        return render_problem(content)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if legacy_error_member_on(scope):
            self.body = render_problem(self.problem, legacy=True)
            self.headers["content-length"] = str(len(self.body))
        await super().__call__(scope, receive, send)


def problem_response(
    exc: StandardHTTPException, *, request_id: str | None = None, instance: str | None = None
) -> ProblemResponse:
    """`exc` as a `ProblemResponse`; the request id defaults to the current request's."""
    problem = exc.to_problem(
        request_id=request_id or get_request_id() or new_request_id(), instance=instance
    )
    return ProblemResponse(problem, headers=exc.headers)


def problem_instance(scope: Scope) -> str | None:
    """The envelope's `instance`: the matched route's template (`/targets/{target_id}`), never
    the path as sent, whose ids and unknown segments are the client's input; None when no
    route matched."""
    route = route_template(scope)
    return None if route == UNMATCHED_ROUTE else route


async def send_problem(send: Send, exc: StandardHTTPException, scope: Scope) -> None:
    """Send `exc` as a complete envelope response through a raw ASGI `send`."""
    problem = exc.to_problem(
        request_id=get_request_id() or new_request_id(), instance=problem_instance(scope)
    )
    body = render_problem(problem, legacy=legacy_error_member_on(scope))
    headers = [
        _CONTENT_TYPE,
        (b"content-length", b"%d" % len(body)),
        *(
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in (exc.headers or {}).items()
        ),
    ]
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
