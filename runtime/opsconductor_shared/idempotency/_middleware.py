"""`IdempotencyMiddleware`: store the response of a request that claimed an idempotency key.

It sits in the stack's `idempotency` slot, inside the body limit, and does nothing for a
request without an `Idempotency-Key` header (one scan of the header list). For one with a key,
the `idempotency()` dependency claims the key when the route opts in; the middleware then
holds the response back until its last byte, stores it, and only then sends it, so a client
that sees any byte of the answer can rely on a retry replaying it. A response worth replaying
is stored (any status below 500 except 401, 403, 408, 425 and 429, which say something about
the moment, not the request); for a 5xx, an exception, a response over `max_response_bytes`,
or a client gone away, the claim is released and a retry runs the request again. A route
that recorded its response in its own transaction (`IdempotencyKey.record`, PostgreSQL) has
stored it already: its response is sent as it comes, and only released for a 5xx (which
changes nothing once that transaction committed: the entry is no longer in flight).
"""

from __future__ import annotations

from collections.abc import Awaitable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._logging import get_logger
from ._dependency import CLAIM_STATE_KEY, PendingClaim
from ._store import StoredResponse

__all__ = ["REPLAYED_HEADERS", "IdempotencyMiddleware", "idempotency_layer"]

_KEYED_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
_NOT_STORED = frozenset({401, 403, 408, 425, 429})
REPLAYED_HEADERS = frozenset(
    {"content-type", "content-location", "location", "etag", "last-modified", "cache-control"}
)
"""The response headers a replay repeats; the rest (request id, timing, limits) are its own."""
_log = get_logger("opsconductor.idempotency")


class IdempotencyMiddleware:
    """See the module docstring.

    Args:
        app: the ASGI app to wrap.
        max_response_bytes: larger responses are sent but not stored.
    """

    def __init__(self, app: ASGIApp, *, max_response_bytes: int) -> None:
        self.app = app
        self.max_response_bytes = max_response_bytes

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope.get("method") in _KEYED_METHODS:  # only HTTP scopes have a method
            for name, _ in scope["headers"]:
                if name == b"idempotency-key":
                    return self._keyed(scope, receive, send)
        return self.app(scope, receive, send)

    async def _keyed(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope.setdefault("state", {})  # shared with the dependency, whatever copies the scope
        held: list[Message] = []
        size = 0
        claim: PendingClaim | None = None
        settled = False

        async def capture(message: Message) -> None:
            nonlocal claim, size, settled
            if settled:
                await send(message)
                return
            if message["type"] == "http.response.start":
                claim = scope.get("state", {}).get(CLAIM_STATE_KEY)
                if claim is None:
                    settled = True  # no claim: a route without opt-in, or a replay
                    await send(message)
                    return
                if claim.recorded:  # stored by the route, in its transaction
                    settled = True
                    status = int(message["status"])
                    if status >= 400 or status in _NOT_STORED:
                        # An error after the record means its transaction most likely rolled
                        # back; the release is a no-op if it committed (the entry is complete).
                        await _release(claim, f"status_{status}")
                    await send(message)
                    return
            held.append(message)
            if message["type"] != "http.response.body" or claim is None:
                return
            size += len(message.get("body", b""))
            if size > self.max_response_bytes:
                settled = True
                await _release(claim, "too_large")
                for pending in held:
                    await send(pending)
                return
            if message.get("more_body", False):
                return
            settled = True
            await _settle(claim, held)
            for pending in held:
                await send(pending)

        try:
            await self.app(scope, receive, capture)
        finally:
            pending_claim = claim or scope.get("state", {}).get(CLAIM_STATE_KEY)
            if not settled and pending_claim is not None:
                await _release(pending_claim, "no_response")


def idempotency_layer(app: ASGIApp, *, max_response_bytes: int) -> ASGIApp:
    """The `idempotency` slot's layer: `IdempotencyMiddleware` for a keyed write, and for
    any other request the inner app's own awaitable, from a plain closure: no coroutine
    frame and no instance call of its own, only the method check and one header scan
    (issue 18: < 1 us on a request without a key)."""
    keyed = IdempotencyMiddleware(app, max_response_bytes=max_response_bytes)._keyed

    def layer(scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope.get("method") in _KEYED_METHODS:  # only HTTP scopes have a method
            for name, _ in scope["headers"]:
                if name == b"idempotency-key":
                    return keyed(scope, receive, send)
        return app(scope, receive, send)

    return layer


async def _settle(claim: PendingClaim, messages: list[Message]) -> None:
    start = messages[0]
    status = int(start["status"])
    if status >= 500 or status in _NOT_STORED:
        await _release(claim, f"status_{status}")
        return
    headers = tuple(
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, value in start.get("headers", ())
        if name.decode("latin-1").lower() in REPLAYED_HEADERS
    )
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    stored = StoredResponse(claim.fingerprint, status, headers, body)
    config = claim.config
    try:
        await config.store.complete(claim.key, claim.token, stored, ttl=config.ttl)
    except Exception as exc:
        _log.error("idempotency_store_failed", operation="complete", error=type(exc).__name__)


async def _release(claim: PendingClaim, reason: str) -> None:
    try:
        await claim.config.store.release(claim.key, claim.token)
    except Exception as exc:
        _log.warning("idempotency_store_failed", operation="release", error=type(exc).__name__)
    else:
        _log.debug("idempotency_released", reason=reason)
