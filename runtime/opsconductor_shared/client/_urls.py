"""Where a call goes, and how it is named in messages: `join_url` and `public_url`.

A service client's base URL may carry a path prefix (`http://gateway/targets-api`), and a
caller may write a path with or without its leading slash. `join_url` keeps the prefix and
puts exactly one `/` between it and the path, whichever way either is written:

    join_url(httpx.URL("http://targets:8000/api/"), "/targets/1")  ->  http://targets:8000/api/targets/1
    join_url(httpx.URL("http://targets:8000/api"), "targets/1")    ->  http://targets:8000/api/targets/1

RFC 3986 resolution (`httpx.URL.join`) does neither: a leading `/` drops the prefix, and a
base without a trailing `/` loses its last segment; httpx's own merge reads a path starting
with `//` as another host's. An absolute URL (`https://auth/verify`) is used as it is.

`public_url` is a URL fit for an error message or a log line: no user name or password, no
fragment, and the value of every query parameter whose name is a secret's (`token`,
`api_key`, `signature`, ... as the log masking knows them) replaced.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx

from .._masking import REDACTED, is_sensitive_key

__all__ = ["base_url_of", "join_url", "public_url"]

_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def base_url_of(url: str | httpx.URL) -> httpx.URL:
    """`url` as a base URL: its path prefix without a trailing `/`, no query, no fragment.

    Raises:
        ValueError: `url` is not an absolute http(s) URL.
    """
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"a service's base URL is an absolute http(s) URL, not {str(url)!r}")
    return parsed.copy_with(
        raw_path=parsed.raw_path.split(b"?", 1)[0].rstrip(b"/"), query=None, fragment=None
    )


def join_url(base: httpx.URL, path: str) -> httpx.URL:
    """`path` (and its query) under the prefix of `base` (see the module docstring)."""
    if _ABSOLUTE.match(path):
        return httpx.URL(path)
    path = path.split("#", 1)[0]
    prefix = str(base.copy_with(query=None, fragment=None)).rstrip("/")
    return httpx.URL(f"{prefix}/{path.lstrip('/')}")


def public_url(url: httpx.URL) -> str:
    """`url` without credentials, fragment or secret query values (see the module docstring)."""
    shown = str(url.copy_with(userinfo=b"", query=None, fragment=None))
    params = url.params.multi_items()
    if not params:
        return shown
    query = "&".join(
        f"{quote(key, safe='')}={REDACTED if is_sensitive_key(key) else quote(value, safe='')}"
        for key, value in params
    )
    return f"{shown}?{query}"
