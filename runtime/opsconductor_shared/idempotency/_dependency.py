"""`idempotency()`: the per-route opt-in, a FastAPI dependency (draft-ietf-httpapi-idempotency-key-header-07).

    @app.post("/targets", dependencies=[Depends(idempotency())])             # a key is honoured
    @app.post("/jobs/{id}/runs", dependencies=[Depends(idempotency(required=True))])  # and needed

With an `Idempotency-Key` header it fingerprints the request (method, path and query, the
principal, the SHA-256 of the body) and claims the key, scoped by the principal, in the
app's store (`install_idempotency`):

    first time              the request runs; `IdempotencyMiddleware` stores its response,
                            or the route records it in its own transaction (`record`)
    same key, same request  the stored response is replayed, with `Idempotent-Replayed: true`
    same key, other request 422: a key is for one request only
    same key, still running 409, with Retry-After
    no key, required        400
    store cannot decide     503

Every one in the shared envelope, and documented on the route (the header parameter and the
400, 409, 422 and 503 answers). The dependency's value is an `IdempotencyKey`: with a store
that records (PostgreSQL), `await key.record(conn, body, status_code=201)` inside the route's
transaction stores the response with the write, and the middleware then stores nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Header
from fastapi.encoders import jsonable_encoder
from opsconductor_contracts import ErrorDetail
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .._errors import (
    BadRequestError,
    ConflictError,
    ServiceUnavailableError,
    ValidationError,
)
from .._logging import get_logger
from .._operations import raises_errors
from ._store import (
    Claimed,
    IdempotencyStore,
    InFlight,
    RecordingIdempotencyStore,
    StoredResponse,
)

__all__ = [
    "CLAIM_STATE_KEY",
    "IDEMPOTENCY_KEY_HEADER",
    "IDEMPOTENT_REPLAYED_HEADER",
    "IdempotencyConfig",
    "IdempotencyKey",
    "IdempotentReplay",
    "PendingClaim",
    "idempotency",
    "replay_response",
]

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
IDEMPOTENT_REPLAYED_HEADER = "Idempotent-Replayed"
CLAIM_STATE_KEY = "opsconductor.idempotency.claim"
CONFIG_STATE_ATTRIBUTE = "idempotency"
DEFAULT_MAX_KEY_LENGTH = 255
_KEY_CHARACTERS = re.compile(r"[\x21-\x7e]+")
# What the OpenAPI document says a key is: 1 to DEFAULT_MAX_KEY_LENGTH visible ASCII
# characters, bare or as a quoted sf-string (a longer configured limit is not in the document).
_KEY_PATTERN = f'^(?:[!-~]{{1,{DEFAULT_MAX_KEY_LENGTH}}}|"[!-~]{{1,{DEFAULT_MAX_KEY_LENGTH}}}")$'
_log = get_logger("opsconductor.idempotency")
_HEADER_DOC = (
    "A unique key (a UUID) that makes this request safe to retry: a repeat with the same key "
    "and the same request gets the first response again (draft-ietf-httpapi-idempotency-key-"
    'header). Sent as a string, quoted (`"..."`) or not.'
)


@dataclass(frozen=True, slots=True)
class IdempotencyConfig:
    """What `install_idempotency` put on the app for the dependency and the middleware."""

    store: IdempotencyStore
    ttl: float
    lock_ttl: float
    max_key_length: int
    max_response_bytes: int
    recording: RecordingIdempotencyStore | None = None


@dataclass(slots=True)
class PendingClaim:
    """A key this request holds; the middleware completes or releases it, unless the route
    recorded its response (`recorded`)."""

    config: IdempotencyConfig
    key: str
    fingerprint: str
    token: str
    recorded: bool = False


class IdempotencyKey:
    """The `idempotency()` dependency's value: the request's claim of its key, if any.

    A route whose store records (PostgreSQL) stores its response in the transaction of its
    write, so the two commit together:

        async def create_target(body: TargetCreate, key: Keyed) -> Target:
            async with db.transaction() as conn:
                target = await insert_target(conn, body)
                await key.record(conn, target, status_code=201)
            return target
    """

    __slots__ = ("_claim",)

    def __init__(self, claim: PendingClaim | None) -> None:
        self._claim = claim

    def __repr__(self) -> str:
        return f"IdempotencyKey(claimed={self.claimed})"

    @property
    def claimed(self) -> bool:
        """Whether this request holds a key (it came with `Idempotency-Key` and runs first)."""
        return self._claim is not None

    async def record(
        self,
        conn: Any,
        body: Any,
        *,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Store the response the route is about to send, on `conn` inside its transaction.

        `body` as the client is to see it: a Pydantic model (serialised by alias, as FastAPI
        serialises a route's response model), `bytes` as they are, anything else as JSON.
        Pass an instance of the route's `response_model` itself: `record` does not filter
        through it as FastAPI does, so an internal model with fields the response model
        leaves out would be replayed with them.
        Nothing happens without a claim, with a store that does not record (memory, Redis:
        the middleware stores the response as it is sent), or for a response over
        `max_response_bytes` (the middleware then releases the key).

        Raises:
            ConflictError: the claim expired and another request with the key took it
                (409; the route's transaction rolls back).
        """
        claim = self._claim
        if claim is None or claim.recorded:
            return
        config = claim.config
        recording = config.recording
        if recording is None:
            return
        if isinstance(body, bytes):
            content = body
        elif isinstance(body, BaseModel):
            content = body.model_dump_json(by_alias=True).encode()
        else:
            content = bytes(JSONResponse(jsonable_encoder(body)).body)
        if len(content) > config.max_response_bytes:
            return
        stored = StoredResponse(
            claim.fingerprint,
            status_code,
            (("content-type", "application/json"), *(headers or {}).items()),
            content,
        )
        await recording.record(conn, claim.key, claim.token, stored, ttl=config.ttl)
        claim.recorded = True


_NO_KEY = IdempotencyKey(None)


class IdempotentReplay(Exception):  # noqa: N818 - not an error: the answer, replayed
    """Raised by the dependency to answer with a stored response (see `replay_response`)."""

    def __init__(self, stored: StoredResponse) -> None:
        super().__init__("idempotent replay")
        self.stored = stored


def replay_response(stored: StoredResponse) -> Response:
    response = Response(stored.body, status_code=stored.status)
    for name, value in stored.headers:
        response.headers.append(name, value)
    response.headers[IDEMPOTENT_REPLAYED_HEADER] = "true"
    return response


def _problem_detail(code: str, detail: str) -> list[ErrorDetail]:
    return [
        ErrorDetail(
            pointer="/header/idempotency-key", field="Idempotency-Key", code=code, detail=detail
        )
    ]


def _key_of(raw: str, limit: int) -> str:
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':  # an sf-string, as the draft writes it
        key = key[1:-1]
    if not key or len(key) > limit or _KEY_CHARACTERS.fullmatch(key) is None:
        raise BadRequestError(
            f"The Idempotency-Key header must be 1 to {limit} visible ASCII characters.",
            errors=_problem_detail(
                "idempotency_key_invalid", f"1 to {limit} visible ASCII characters, such as a UUID"
            ),
        )
    return key


def _principal(request: Request) -> str:
    identity: Any = getattr(request.state, "identity", None)
    if identity is None:
        return "anonymous"
    kind = getattr(getattr(identity, "principal_type", None), "value", "user")
    return f"{kind}:{getattr(identity, 'user_id', '')}"


def _config(request: Request) -> IdempotencyConfig:
    config = getattr(request.app.state, CONFIG_STATE_ATTRIBUTE, None)
    if not isinstance(config, IdempotencyConfig):
        raise RuntimeError("idempotency() needs install_idempotency(app) when creating the app")
    return config


def idempotency(*, required: bool = False) -> Callable[..., Awaitable[IdempotencyKey]]:
    """The dependency of a route that honours `Idempotency-Key` (see the module docstring).

    Args:
        required: a request without the header is refused with 400.
    """

    @raises_errors(400, 409, 422, 503)
    async def dependency(
        request: Request,
        idempotency_key: Annotated[
            str | None,
            Header(
                alias=IDEMPOTENCY_KEY_HEADER,
                description=_HEADER_DOC,
                # documented, not enforced here: `_key_of` answers 400 in the envelope
                json_schema_extra={"pattern": _KEY_PATTERN},
            ),
        ] = None,
    ) -> IdempotencyKey:
        if idempotency_key is None:
            if required:
                raise BadRequestError(
                    "This operation needs an Idempotency-Key header (a UUID), so that it can "
                    "be retried safely.",
                    errors=_problem_detail(
                        "idempotency_key_required", "required on this operation"
                    ),
                )
            return _NO_KEY
        config = _config(request)
        key = _key_of(idempotency_key, config.max_key_length)
        principal = _principal(request)
        body = await request.body()
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        fingerprint = hashlib.sha256(
            b"\0".join(
                (
                    request.method.encode(),
                    target.encode(),
                    principal.encode(),
                    hashlib.sha256(body).digest(),
                )
            )
        ).hexdigest()
        scoped = hashlib.sha256(f"{principal}\0{key}".encode()).hexdigest()
        try:
            outcome = await config.store.claim(scoped, fingerprint, lock_ttl=config.lock_ttl)
        except Exception as exc:
            _log.warning("idempotency_store_failed", operation="claim", error=type(exc).__name__)
            raise ServiceUnavailableError(
                "Idempotency keys cannot be checked now. Retry later.", retry_after=1
            ) from exc
        if isinstance(outcome, Claimed):
            claim = PendingClaim(config, scoped, fingerprint, outcome.token)
            request.scope.setdefault("state", {})[CLAIM_STATE_KEY] = claim
            return IdempotencyKey(claim)
        if outcome.fingerprint != fingerprint:
            raise ValidationError(
                "This Idempotency-Key was used for a different request; use a new key for "
                "each request.",
                errors=_problem_detail(
                    "idempotency_key_reused", "already used for a different request"
                ),
                metadata={"reason": "idempotency_key_reused"},
            )
        if isinstance(outcome, InFlight):
            raise ConflictError(
                "A request with this Idempotency-Key is still being processed. Retry later.",
                retry_after=1,
                errors=_problem_detail(
                    "idempotency_key_in_flight", "a request with this key is in progress"
                ),
                metadata={"reason": "idempotency_key_in_flight"},
            )
        raise IdempotentReplay(outcome)

    dependency.__name__ = "idempotency_required" if required else "idempotency"
    return dependency
