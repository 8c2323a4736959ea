"""The OWASP secure-headers set for an API, and the one for its documentation pages.

`security_headers(...)` is what the standard layer adds to every response: for JSON APIs,
nothing may be framed, sniffed, referred or cached, resources are same-origin, and HSTS is
sent in production. A header the route set itself is kept (a `Cache-Control` of its own,
say); see `middleware.standard`.

`document_headers(...)` is what the documentation routes (Swagger UI, ReDoc) set on their own
pages, which are documents: a Content-Security-Policy that lets them load their scripts,
styles and images from the CDN FastAPI uses, no cross-origin embedder policy, and the headers
that only govern rendered documents. The pages carry them wherever the routes are mounted
(behind a `root_path` too), because the routes set them, not a list of paths.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "API_CSP",
    "DEFAULT_HSTS_MAX_AGE",
    "DOCS_CSP",
    "document_headers",
    "security_headers",
]

DEFAULT_HSTS_MAX_AGE = 31_536_000
API_CSP = "default-src 'none'; frame-ancestors 'none'"
DOCS_CSP = (
    "default-src 'none'; "
    "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.jsdelivr.net https://cdn.redoc.ly; "
    "worker-src 'self' blob:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
# The OWASP REST Security and Secure Headers sets as they apply to JSON: frame-ancestors in the
# CSP (which supersedes X-Frame-Options), nosniff, no referrer, no caching, same-origin
# resources, HSTS. Headers that only govern rendered documents (X-Frame-Options for old
# browsers, Cross-Origin-Opener-Policy, Permissions-Policy, X-Permitted-Cross-Domain-Policies)
# go on the documentation pages, which are documents, and not on every API response: each
# header costs the server time to write on every response.
_API = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "cross-origin-resource-policy": "same-origin",
    "content-security-policy": API_CSP,
}
_DOCUMENT = {
    "content-security-policy": DOCS_CSP,
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "x-permitted-cross-domain-policies": "none",
    "permissions-policy": "accelerometer=(), camera=(), geolocation=(), microphone=(), payment=(), usb=()",
}


def security_headers(
    *,
    hsts: bool = True,
    hsts_max_age: int = DEFAULT_HSTS_MAX_AGE,
    hsts_include_subdomains: bool = True,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The headers of every API response, by lowercase name.

    Args:
        hsts: send `Strict-Transport-Security` (production, behind TLS).
        hsts_max_age: its max-age in seconds.
        hsts_include_subdomains: add `includeSubDomains`.
        extra: more headers for every response (override the defaults by name).

    Raises:
        ValueError: `hsts_max_age` is negative.
    """
    if hsts_max_age < 0:
        raise ValueError("hsts_max_age must not be negative")
    headers = dict(_API)
    if hsts:
        headers["strict-transport-security"] = f"max-age={hsts_max_age}" + (
            "; includeSubDomains" if hsts_include_subdomains else ""
        )
    headers |= {name.lower(): value for name, value in (extra or {}).items()}
    return headers


def document_headers() -> dict[str, str]:
    """The headers a documentation page sets itself (its CSP, and the document-only set)."""
    return dict(_DOCUMENT)
