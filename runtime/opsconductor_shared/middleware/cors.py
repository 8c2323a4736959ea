"""CORS with safe defaults: Starlette's `CORSMiddleware`, behind configuration checks.

Starlette answers a wildcard origin with credentials by reflecting any origin, which lets
every site on the internet make credentialed calls. `cors_middleware_options` refuses that
combination outright, and refuses wildcard headers with credentials too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "DEFAULT_CORS_HEADERS",
    "DEFAULT_CORS_METHODS",
    "DEFAULT_EXPOSED_HEADERS",
    "cors_middleware_options",
]

DEFAULT_CORS_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
DEFAULT_CORS_HEADERS = (
    "Authorization",
    "Content-Type",
    "X-Request-ID",
    "Idempotency-Key",
    "traceparent",
)
DEFAULT_EXPOSED_HEADERS = (
    "X-Request-ID",
    "Retry-After",
    "RateLimit",
    "RateLimit-Policy",
    "Server-Timing",
)


def cors_middleware_options(
    *,
    allow_origins: Sequence[str],
    allow_credentials: bool = False,
    allow_methods: Sequence[str] = DEFAULT_CORS_METHODS,
    allow_headers: Sequence[str] = DEFAULT_CORS_HEADERS,
    expose_headers: Sequence[str] = DEFAULT_EXPOSED_HEADERS,
    max_age: int = 600,
) -> dict[str, Any]:
    """Checked keyword arguments for `starlette.middleware.cors.CORSMiddleware`.

    Raises:
        ValueError: a wildcard origin or header together with credentials, or an origin that
            is not `*` or a `scheme://host[:port]` origin.
    """
    origins = list(allow_origins)
    if allow_credentials and "*" in origins:
        raise ValueError(
            "CORS: a wildcard origin with credentials would let any site make credentialed calls; list the origins"
        )
    if allow_credentials and "*" in allow_headers:
        raise ValueError("CORS: wildcard headers with credentials are refused; list the headers")
    for origin in origins:
        if origin != "*" and (
            "://" not in origin or origin.endswith("/") or origin.count("/") != 2
        ):
            raise ValueError(f"CORS: {origin!r} is not an origin (scheme://host[:port], no path)")
    if max_age < 0:
        raise ValueError("CORS: max_age must not be negative")
    return {
        "allow_origins": origins,
        "allow_credentials": allow_credentials,
        "allow_methods": list(allow_methods),
        "allow_headers": list(allow_headers),
        "expose_headers": list(expose_headers),
        "max_age": max_age,
    }
