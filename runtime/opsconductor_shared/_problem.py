"""Building and sending the error envelope: `ErrorResponse` as `application/problem+json`."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from opsconductor_contracts import ErrorDetail, ErrorResponse
from starlette.background import BackgroundTask
from starlette.responses import Response
from starlette.types import Send

__all__ = [
    "PROBLEM_JSON",
    "ProblemResponse",
    "build_problem",
    "code_for_status",
    "send_problem",
]

PROBLEM_JSON = "application/problem+json"

_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    412: "PRECONDITION_FAILED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    502: "UPSTREAM_ERROR",
    503: "SERVICE_UNAVAILABLE",
    504: "UPSTREAM_TIMEOUT",
}
_NON_CODE = re.compile(r"[^A-Z0-9_]")


def code_for_status(status: int) -> str:
    """The standard code of an HTTP status (`NOT_FOUND`), or its name (`IM_A_TEAPOT`)."""
    if status in _CODES:
        return _CODES[status]
    try:
        return HTTPStatus(status).name
    except ValueError:
        return "BAD_REQUEST" if status < 500 else "INTERNAL_ERROR"


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def build_problem(
    status: int,
    *,
    code: str | None = None,
    detail: str,
    request_id: str,
    instance: str | None = None,
    errors: Sequence[ErrorDetail] = (),
    title: str | None = None,
    type_uri: str = "about:blank",
) -> ErrorResponse:
    """The shared envelope for one error occurrence."""
    code = (
        _NON_CODE.sub("_", (code or code_for_status(status)).upper()).lstrip("_0123456789")
        or "INTERNAL_ERROR"
    )
    return ErrorResponse(
        type=type_uri,
        title=title or _title(status),
        status=status,
        detail=detail[:4096],
        instance=instance[:2048] if instance else None,
        code=code[:64],
        request_id=request_id[:128],
        timestamp=datetime.now(UTC),
        errors=list(errors)[:1000],
    )


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


async def send_problem(
    send: Send, problem: ErrorResponse, headers: Mapping[str, str] | None = None
) -> None:
    """Send the envelope as a complete response through a raw ASGI `send`."""
    body = problem.model_dump_json().encode()
    raw_headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        *(
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in (headers or {}).items()
        ),
    ]
    await send({"type": "http.response.start", "status": problem.status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
