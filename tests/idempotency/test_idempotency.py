"""`Idempotency-Key` on the server (draft-ietf-httpapi-idempotency-key-header-07), in process:
replay, 422 on reuse, 409 in flight, 400 when required, scoping, expiry, 5xx released."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import Depends, FastAPI
from opsconductor_shared import AuthSettings, ServiceSettings, create_service_app
from opsconductor_shared.idempotency import (
    Claimed,
    IdempotencySettings,
    InFlight,
    MemoryIdempotencyStore,
    StoredResponse,
    idempotency,
    install_idempotency,
)
from opsconductor_shared.testing import app_client, async_wait_until

from examples.targets_service.app import create_app as create_targets_app
from examples.targets_service.settings import TargetsSettings

pytestmark = pytest.mark.anyio
Headers = Callable[..., dict[str, str]]


def _targets(auth_settings: AuthSettings) -> FastAPI:
    return create_targets_app(TargetsSettings(auth=auth_settings, cursor_secret="t", database=None))


def _keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


async def test_a_repeat_replays_the_first_answer(
    auth_settings: AuthSettings, auth_headers: Headers
) -> None:
    operator = auth_headers(role="operator", sub="op-1")
    key = str(uuid.uuid4())
    body = {"name": "web-1", "hostname": "web-1.example.com", "os_type": "linux"}
    async with app_client(_targets(auth_settings)) as http:
        first = await http.post("/targets", json=body, headers=_keyed(operator, f'"{key}"'))
        again = await http.post("/targets", json=body, headers=_keyed(operator, key))
        listed = await http.get("/targets", headers=operator)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["x-request-id"] != first.headers["x-request-id"]
    assert listed.json()["pagination"]["total_items"] == 1


async def test_the_same_key_for_another_request_is_422(
    auth_settings: AuthSettings, auth_headers: Headers
) -> None:
    operator = auth_headers(role="operator", sub="op-1")
    headers = _keyed(operator, "key-0123456789abcdef")
    async with app_client(_targets(auth_settings)) as http:
        await http.post(
            "/targets",
            json={"name": "a", "hostname": "a.example", "os_type": "linux"},
            headers=headers,
        )
        other = await http.post(
            "/targets",
            json={"name": "b", "hostname": "b.example", "os_type": "linux"},
            headers=headers,
        )
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["errors"][0]["code"] == "idempotency_key_reused"


async def test_keys_are_scoped_by_principal(
    auth_settings: AuthSettings, auth_headers: Headers
) -> None:
    key = "shared-key-0123456789"
    async with app_client(_targets(auth_settings)) as http:
        one = await http.post(
            "/targets",
            json={"name": "a", "hostname": "a.example", "os_type": "linux"},
            headers=_keyed(auth_headers(role="operator", sub="op-1"), key),
        )
        two = await http.post(
            "/targets",
            json={"name": "b", "hostname": "b.example", "os_type": "linux"},
            headers=_keyed(auth_headers(role="operator", sub="op-2"), key),
        )
    assert (one.status_code, two.status_code) == (201, 201)
    assert "idempotent-replayed" not in two.headers


@pytest.mark.parametrize("path", ["/targets", "/targets/bulk"])
@pytest.mark.parametrize("token", [None, "not-a-token"])
async def test_credentials_are_checked_before_the_key(
    auth_settings: AuthSettings, path: str, token: str | None
) -> None:
    # Seen by schemathesis (issue 13): a malformed key was a 400 before a missing token's 401.
    headers = {"Idempotency-Key": "bad key with spaces"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    body: dict[str, Any] = {"name": "a", "hostname": "a.example", "os_type": "linux"}
    async with app_client(_targets(auth_settings)) as http:
        answer = await http.post(
            path, json={"targets": [body]} if path.endswith("bulk") else body, headers=headers
        )
    assert answer.status_code == 401, answer.text


def test_the_documented_header_says_what_a_key_may_be(auth_settings: AuthSettings) -> None:
    import re  # noqa: PLC0415

    document = _targets(auth_settings).openapi()
    for path in ("/targets", "/targets/bulk"):
        (header,) = [
            p
            for p in document["paths"][path]["post"]["parameters"]
            if p["name"] == "Idempotency-Key"
        ]
        schema = header["schema"]  # `pattern` applies to the string member of its anyOf
        assert {"type": "string"} in schema.get("anyOf", [schema]) or schema["type"] == "string"
        pattern = re.compile(schema["pattern"])
        for good in ("a", "x" * 255, '"quoted-key"', str(uuid.uuid4())):
            assert pattern.search(good), good
        for bad in ("", "x" * 256, "bad key", "caf\u00e9", '"' + "x" * 256 + '"'):
            assert not pattern.search(bad), bad


@pytest.mark.parametrize("key", ["", "x" * 256, "bad key with spaces", "caf\u00e9"])
async def test_a_malformed_key_is_400(
    auth_settings: AuthSettings, auth_headers: Headers, key: str
) -> None:
    headers: dict[str, Any] = {**auth_headers(role="operator"), "Idempotency-Key": key.encode()}
    async with app_client(_targets(auth_settings)) as http:
        answer = await http.post(
            "/targets",
            json={"name": "a", "hostname": "a.example", "os_type": "linux"},
            headers=headers,
        )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["code"] == "idempotency_key_invalid"
    if key.strip():
        assert key not in answer.text


def _slow_app(gate: asyncio.Event, calls: list[int], *, status: int = 201) -> FastAPI:
    app = create_service_app("slow", "1.0.0", ServiceSettings())
    install_idempotency(app, IdempotencySettings())

    @app.post("/things", status_code=201, dependencies=[Depends(idempotency())])
    async def create_thing(body: dict[str, Any]) -> dict[str, Any]:
        calls.append(1)
        await gate.wait()
        if status >= 500:
            raise RuntimeError("boom")
        return {"id": len(calls), **body}

    @app.post("/required", dependencies=[Depends(idempotency(required=True))])
    async def must_be_keyed() -> dict[str, bool]:
        return {"ok": True}

    return app


async def test_a_repeat_while_the_first_runs_is_409_then_replays() -> None:
    gate, calls = asyncio.Event(), []
    headers = {"Idempotency-Key": "in-flight-key-0001"}
    async with app_client(_slow_app(gate, calls)) as http:
        first = asyncio.ensure_future(http.post("/things", json={"a": 1}, headers=headers))
        await async_wait_until(lambda: bool(calls), timeout=10)
        during = await http.post("/things", json={"a": 1}, headers=headers)
        gate.set()
        done = await first
        after = await http.post("/things", json={"a": 1}, headers=headers)
    assert during.status_code == 409
    assert during.headers["retry-after"] == "1"
    assert during.json()["errors"][0]["code"] == "idempotency_key_in_flight"
    assert done.status_code == 201
    assert after.status_code == 201
    assert after.headers["idempotent-replayed"] == "true"
    assert after.json() == done.json() == {"id": 1, "a": 1}
    assert len(calls) == 1


async def test_a_failed_request_releases_its_key() -> None:
    gate, calls = asyncio.Event(), []
    gate.set()
    headers = {"Idempotency-Key": "failing-key-00001"}
    async with app_client(_slow_app(gate, calls, status=500)) as http:
        one = await http.post("/things", json={}, headers=headers)
        two = await http.post("/things", json={}, headers=headers)
    assert (one.status_code, two.status_code) == (500, 500)
    assert len(calls) == 2  # the retry ran again: nothing was stored


async def test_required_mode_and_the_openapi_document() -> None:
    gate, calls = asyncio.Event(), []
    async with app_client(_slow_app(gate, calls)) as http:
        missing = await http.post("/required")
        keyed = await http.post("/required", headers={"Idempotency-Key": "abc-0123456789"})
        document = (await http.get("/openapi.json")).json()
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["code"] == "idempotency_key_required"
    assert keyed.status_code == 200
    for path in ("/things", "/required"):
        operation = document["paths"][path]["post"]
        assert {"400", "409", "422", "503"} <= set(operation["responses"])
        names = [p["name"] for p in operation.get("parameters", [])]
        assert "Idempotency-Key" in names


async def test_an_unkeyed_request_is_untouched(
    auth_settings: AuthSettings, auth_headers: Headers
) -> None:
    operator = auth_headers(role="operator")
    async with app_client(_targets(auth_settings)) as http:
        one = await http.post(
            "/targets", json={"name": "a", "hostname": "a.x", "os_type": "linux"}, headers=operator
        )
        two = await http.post(
            "/targets", json={"name": "a", "hostname": "a.x", "os_type": "linux"}, headers=operator
        )
    assert (one.status_code, two.status_code) == (201, 409)


async def test_the_memory_store_expires_and_is_bounded() -> None:
    now = [0.0]
    store = MemoryIdempotencyStore(max_entries=2, clock=lambda: now[0])
    claim = await store.claim("k", "fp", lock_ttl=10)
    assert isinstance(claim, Claimed)
    assert await store.claim("k", "fp", lock_ttl=10) == InFlight("fp")
    stored = StoredResponse("fp", 201, (), b"{}")
    await store.complete("k", "wrong-token", stored, ttl=100)
    assert isinstance(await store.claim("k", "fp", lock_ttl=10), InFlight)
    await store.complete("k", claim.token, stored, ttl=100)
    assert await store.claim("k", "fp", lock_ttl=10) == stored
    now[0] = 101
    assert isinstance(await store.claim("k", "fp", lock_ttl=10), Claimed)
    for name in ("a", "b", "c"):
        await store.claim(name, "fp", lock_ttl=10)
    assert len(store) == 2


async def test_a_claim_ends_by_itself_after_lock_ttl() -> None:
    now = [0.0]
    store = MemoryIdempotencyStore(clock=lambda: now[0])
    await store.claim("k", "fp", lock_ttl=5)
    now[0] = 6
    assert isinstance(await store.claim("k", "fp", lock_ttl=5), Claimed)


def test_the_postgres_store_needs_the_database_installed_first() -> None:
    app = create_service_app("pg", "1.0.0", ServiceSettings())
    with pytest.raises(RuntimeError, match="install_database"):
        install_idempotency(app, IdempotencySettings(storage="postgres"))


def test_the_targets_service_keeps_its_keys_beside_its_targets(auth_settings: AuthSettings) -> None:
    from opsconductor_shared.database import DatabaseSettings  # noqa: PLC0415

    database = DatabaseSettings(dsn="postgresql://127.0.0.1/none")
    settings = TargetsSettings(
        auth=auth_settings, cursor_secret="t", database=database, database_schema="fleet"
    )
    assert (settings.idempotency.storage, settings.idempotency.table) == (
        "postgres",
        "fleet.idempotency_keys",
    )
    chosen = TargetsSettings(
        auth=auth_settings,
        cursor_secret="t",
        database=database,
        idempotency=IdempotencySettings(storage="redis"),
    )
    assert chosen.idempotency.storage == "redis"
    memory = TargetsSettings(auth=auth_settings, cursor_secret="t", database=None)
    assert memory.idempotency.storage == "memory"


def test_another_idempotency_setting_keeps_the_postgres_store(auth_settings: AuthSettings) -> None:
    """Only `IDEMPOTENCY__STORAGE` chooses another store: setting the key's lifetime (or any
    other option) must not quietly make it a per-process memory store, which with replicas
    lets one key create more than one target."""
    from opsconductor_shared.database import DatabaseSettings  # noqa: PLC0415

    settings = TargetsSettings(
        auth=auth_settings,
        cursor_secret="t",
        database=DatabaseSettings(dsn="postgresql://127.0.0.1/none"),
        idempotency=IdempotencySettings(ttl=3600),
    )
    assert (settings.idempotency.storage, settings.idempotency.table) == (
        "postgres",
        "targets_service.idempotency_keys",
    )
    assert settings.idempotency.ttl == 3600
