"""Upstream answers into typed values, or into a `ServiceCommunicationError` that says why.

An error status becomes the mapped `ServiceCommunicationError` (see `_upstream`), carrying
the upstream's `ErrorResponse` (code, request id) when it sent one. A success is validated
into the requested type; when the body does not match it, an unmigrated service's old page
or success envelope is read as the shared page or the payload (see `_legacy`). A body that
is not JSON, or JSON of the wrong shape, is a 502 `UPSTREAM_ERROR` whose detail says which,
and whose log metadata says where.
"""

from __future__ import annotations

import functools
from typing import Any, TypeVar, cast, get_args, get_origin

import httpx
import orjson
from pydantic import BaseModel, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from .._errors import ServiceCommunicationError
from ._legacy import legacy_readings
from ._upstream import DEFAULT_MAX_RETRY_AFTER, call_of, handle_service_communication_error

__all__ = [
    "parse_response",
    "raise_for_upstream_status",
]

T = TypeVar("T")
_MAX_PROBLEMS_LOGGED = 10


@functools.lru_cache(maxsize=256)
def _adapter(model: Any) -> TypeAdapter[Any]:
    return TypeAdapter(model)


def _type_name(model: Any) -> str:
    origin, args = get_origin(model), get_args(model)
    if origin is not None and args:
        return f"{_type_name(origin)}[{', '.join(_type_name(arg) for arg in args)}]"
    return str(getattr(model, "__name__", None) or model)


def _read_legacy(response: httpx.Response, model: type[T]) -> tuple[T] | None:
    """The body read as `model` through one of the old shapes (see `_legacy`), in a tuple
    (the value may be None); None when no reading matches."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:  # JSON pydantic reads and orjson does not (NaN, big numbers)
        return None
    adapter = _adapter(cast("Any", model))
    for reading in legacy_readings(body, response):
        try:
            return (cast("T", adapter.validate_python(reading)),)
        except PydanticValidationError:
            continue
    return None


def raise_for_upstream_status(
    response: httpx.Response, *, service: str, max_retry_after: float = DEFAULT_MAX_RETRY_AFTER
) -> None:
    """Raise the mapped `ServiceCommunicationError` when `response` has an error status.

    Raises:
        ServiceCommunicationError: the status is 4xx or 5xx.
    """
    if response.is_success or response.status_code < 400:
        return
    try:
        response.raise_for_status()
    except httpx.HTTPStatusError as exc:
        raise handle_service_communication_error(
            exc, service=service, max_retry_after=max_retry_after
        ) from exc


def parse_response(response: httpx.Response, model: type[T], *, service: str) -> T:
    """The body of `response` validated as `model` (a pydantic model or any type pydantic
    validates, such as `list[Target]`).

    Raises:
        ServiceCommunicationError: 502, the body is not JSON or does not match `model`.
    """
    media_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise ServiceCommunicationError(
            f"The {service} service sent a response that is not JSON "
            f"({media_type or 'no content type'}).",
            service=service,
            upstream_status=response.status_code,
            metadata={"content_type": media_type},
            **call_of(response),
        )
    try:
        if isinstance(model, type) and issubclass(model, BaseModel):
            return cast("T", model.model_validate_json(response.content))
        return cast("T", _adapter(cast("Any", model)).validate_json(response.content))
    except PydanticValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False)
        if not errors or errors[0]["type"] != "json_invalid":
            found = _read_legacy(response, model)
            if found is not None:
                return found[0]
        if errors and errors[0]["type"] == "json_invalid":
            detail = f"The {service} service sent a response that is not valid JSON."
        else:
            detail = (
                f"The {service} service sent a response that does not match {_type_name(model)}."
            )
        raise ServiceCommunicationError(
            detail,
            service=service,
            upstream_status=response.status_code,
            metadata={
                "expected": _type_name(model),
                "problems": [
                    (".".join(str(part) for part in error["loc"]), error["type"])
                    for error in errors[:_MAX_PROBLEMS_LOGGED]
                ],
            },
            **call_of(response),
        ) from exc
