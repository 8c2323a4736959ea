"""Sending the error envelope: an exception as `application/problem+json`.

Two ways out, one builder (`StandardHTTPException.to_problem`):

- `problem_response(exc, ...)`: a Starlette `ProblemResponse`, for the exception handlers
  and for routes that return an error instead of raising it;
- `send_problem(send, exc, scope)`: the same response through a raw ASGI `send`, for the
  middleware that answer before (or instead of) the app: the body limit, the rate limiter,
  the last-resort handler of the standard layer.

The request id is the current request's (`get_request_id`), the instance its path, the headers
the exception's own (`Retry-After`, `WWW-Authenticate`, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opsconductor_contracts import ErrorResponse
from starlette.background import BackgroundTask
from starlette.responses import Response
from starlette.types import Scope, Send

from ._context import get_request_id, new_request_id
from ._errors import StandardHTTPException

__all__ = [
    "PROBLEM_JSON",
    "ProblemResponse",
    "problem_response",
    "send_problem",
]

PROBLEM_JSON = "application/problem+json"
_CONTENT_TYPE = (b"content-type", PROBLEM_JSON.encode())


class ProblemResponse(Response):
    """An `ErrorResponse` served as `application/problem+json` with its status."""

    media_type = PROBLEM_JSON

    def __init__(
        self,
        problem: ErrorResponse,
        headers: Mapping[str, str] | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        super().__init__(
            problem, status_code=problem.status, headers=headers, background=background
        )

    def render(self, content: Any) -> bytes:
        if not isinstance(content, ErrorResponse):
            raise TypeError(
                f"ProblemResponse renders an ErrorResponse, not {type(content).__name__}"
            )
        return content.model_dump_json().encode()


def problem_response(
    exc: StandardHTTPException, *, request_id: str | None = None, instance: str | None = None
) -> ProblemResponse:
    """`exc` as a `ProblemResponse`; the request id defaults to the current request's."""
    problem = exc.to_problem(
        request_id=request_id or get_request_id() or new_request_id(), instance=instance
    )
    return ProblemResponse(problem, headers=exc.headers)


async def send_problem(send: Send, exc: StandardHTTPException, scope: Scope) -> None:
    """Send `exc` as a complete envelope response through a raw ASGI `send`."""
    problem = exc.to_problem(
        request_id=get_request_id() or new_request_id(), instance=scope.get("path")
    )
    body = problem.model_dump_json().encode()
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
