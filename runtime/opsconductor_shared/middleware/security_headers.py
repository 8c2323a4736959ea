"""`SecurityHeadersMiddleware`: the OWASP secure-headers set for an API, on every response.

Defaults for JSON APIs: nothing may be framed, sniffed, referred or cached; resources are
same-origin. HSTS is added in production. The documentation routes (`/docs`, `/redoc`) get a
Content-Security-Policy that lets Swagger UI and ReDoc load their scripts, styles and images
from the CDN FastAPI uses, and no cross-origin embedder policy, so they work in a browser. A
`Cache-Control` the route set itself is kept. Any `Server` header the app sends is removed
(uvicorn adds its own unless started with `--no-server-header`/`server_header=False`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["API_CSP", "DOCS_CSP", "SecurityHeadersMiddleware"]

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
_COMMON = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "cross-origin-resource-policy": "same-origin",
}
_DOCUMENT_ONLY = {
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "x-permitted-cross-domain-policies": "none",
    "permissions-policy": "accelerometer=(), camera=(), geolocation=(), microphone=(), payment=(), usb=()",
}


def _encode(headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    return [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
    ]


class SecurityHeadersMiddleware:
    """See the module docstring.

    Args:
        app: the ASGI app to wrap.
        hsts: send `Strict-Transport-Security` (production, behind TLS).
        hsts_max_age: its max-age in seconds.
        hsts_include_subdomains: add `includeSubDomains`.
        docs_paths: paths that get the documentation CSP.
        extra: more headers to add to every response (override the defaults by name).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        hsts: bool = True,
        hsts_max_age: int = 31_536_000,
        hsts_include_subdomains: bool = True,
        docs_paths: Iterable[str] = ("/docs", "/docs/oauth2-redirect", "/redoc"),
        extra: Mapping[str, str] | None = None,
    ) -> None:
        if hsts_max_age < 0:
            raise ValueError("hsts_max_age must not be negative")
        self.app = app
        common = dict(_COMMON)
        if hsts:
            common["strict-transport-security"] = f"max-age={hsts_max_age}" + (
                "; includeSubDomains" if hsts_include_subdomains else ""
            )
        common |= {name.lower(): value for name, value in (extra or {}).items()}
        api = {**common, "content-security-policy": API_CSP}
        docs = {**common, **_DOCUMENT_ONLY, "content-security-policy": DOCS_CSP}
        self.api_headers = _encode(api)
        self.docs_headers = _encode(docs)
        self._api_names = frozenset(name for name, _ in self.api_headers)
        self._docs_names = frozenset(name for name, _ in self.docs_headers)
        self.docs_paths = frozenset(docs_paths)

    def all_for(self, path: str) -> list[tuple[bytes, bytes]]:
        """Every default header for `path` (for a response that set none of them)."""
        return self.docs_headers if path in self.docs_paths else self.api_headers

    def defaults_for(self, path: str, present: set[bytes]) -> list[tuple[bytes, bytes]]:
        """The default headers for `path` that a response with header names `present` lacks."""
        docs = path in self.docs_paths
        defaults = self.docs_headers if docs else self.api_headers
        if present.isdisjoint(self._docs_names if docs else self._api_names):
            return defaults
        return [h for h in defaults if h[0] not in present]

    def apply(self, headers: list[tuple[bytes, bytes]], path: str) -> list[tuple[bytes, bytes]]:
        """`headers` without `Server` and with every default the route did not set itself."""
        present = {name.lower() for name, _ in headers}
        if b"server" in present:
            headers = [h for h in headers if h[0].lower() != b"server"]
        headers.extend(self.defaults_for(path, present))
        return headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = self.apply(list(message.get("headers", ())), path)
            await send(message)

        await self.app(scope, receive, send_with_headers)
