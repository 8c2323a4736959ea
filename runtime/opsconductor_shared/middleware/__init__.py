"""Pure-ASGI middleware of the runtime (never `BaseHTTPMiddleware`)."""

from .body_limit import DEFAULT_MAX_BODY_BYTES, RequestBodyLimitMiddleware
from .cors import cors_middleware_options
from .metrics import RequestMetrics
from .security_headers import API_CSP, DOCS_CSP, document_headers, security_headers
from .standard import (
    DEFAULT_REQUEST_ID_HEADER,
    DEFAULT_SLOW_REQUEST_MS,
    StandardMiddleware,
    add_response_headers,
    route_template,
)

__all__ = [
    "API_CSP",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_REQUEST_ID_HEADER",
    "DEFAULT_SLOW_REQUEST_MS",
    "DOCS_CSP",
    "RequestBodyLimitMiddleware",
    "RequestMetrics",
    "StandardMiddleware",
    "add_response_headers",
    "cors_middleware_options",
    "document_headers",
    "route_template",
    "security_headers",
]
