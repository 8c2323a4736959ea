"""Exactly-once writes: the server side of `Idempotency-Key`
(draft-ietf-httpapi-idempotency-key-header-07).

install_idempotency(app)                          # memory; IdempotencySettings(storage="redis")

@app.post("/targets", status_code=201, dependencies=[Depends(idempotency())])
async def create_target(...): ...

A repeat of a keyed request replays the first response (`Idempotent-Replayed: true`); the
same key with another request is 422, a repeat while the first still runs 409, a missing key
on a route with `idempotency(required=True)` 400. Keys are scoped by principal, expire
after `ttl`, and are bounded in length; the stores are in memory (one process), Redis
(`SET NX` with expiry, shared by replicas) and PostgreSQL (shared, and recorded by the route
in the transaction of its write: `IdempotencyKey.record`). See docs/idempotency.md.
"""

from ._dependency import IDEMPOTENT_REPLAYED_HEADER, IdempotencyKey, idempotency
from ._install import IdempotencySettings, install_idempotency
from ._postgres import PostgresIdempotencyStore
from ._redis import RedisIdempotencyStore
from ._store import (
    Claimed,
    IdempotencyStore,
    InFlight,
    MemoryIdempotencyStore,
    RecordingIdempotencyStore,
    StoredResponse,
)

__all__ = [
    "IDEMPOTENT_REPLAYED_HEADER",
    "Claimed",
    "IdempotencyKey",
    "IdempotencySettings",
    "IdempotencyStore",
    "InFlight",
    "MemoryIdempotencyStore",
    "PostgresIdempotencyStore",
    "RecordingIdempotencyStore",
    "RedisIdempotencyStore",
    "StoredResponse",
    "idempotency",
    "install_idempotency",
]
