"""No response echoes what the client sent: random strings in every query and path parameter of
both reference services never come back, in any status, in any field (hypothesis).

Every parameter is read from each service's own OpenAPI document, so a parameter added later
is covered without touching this file. The app is called in-process (the testing kit's
`app_client`, httpx over ASGI) with an admin's credentials, so that requests reach validation
and the handlers rather than stopping at a 401.
"""

from __future__ import annotations

import json
import string
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opsconductor_shared import ValidationError
from opsconductor_shared._handlers import validation_error_details
from opsconductor_shared._pagination import parse_sort
from opsconductor_shared._problem import problem_response
from opsconductor_shared.testing import KeySet, TokenFactory

from examples.auth_service.app import create_app as create_auth_app
from examples.auth_service.settings import AuthServiceSettings
from examples.targets_service.app import create_app as create_targets_app
from examples.targets_service.settings import TargetsSettings

pytestmark = pytest.mark.slow

KEYS = KeySet()
TOKENS = TokenFactory(KEYS, algorithm="HS256")
# A marker no fixed text contains: it starts with `Zq` and has a hostile tail (quotes, SQL).
MARKERS = st.text(
    alphabet=string.ascii_letters + string.digits + " '\";-_()<>%.,:=", min_size=3, max_size=30
).map(lambda tail: f"Zq{tail}")


def _apps() -> dict[str, FastAPI]:
    auth = create_auth_app(
        AuthServiceSettings(
            environment="development",
            signing_key_file=Path(tempfile.mkdtemp(prefix="echo-auth-")) / "key.pem",
            seed_passwords={"admin": "admin-password-123"},
            argon2_time_cost=1,
            argon2_memory_kib=1024,
        )
    )
    targets = create_targets_app(
        TargetsSettings(auth=KEYS.hs256_settings(), cursor_secret="echo", database=None)
    )
    return {"auth": auth, "targets": targets}


def _parameters(app: FastAPI) -> list[tuple[str, str, str, str, list[str]]]:
    """(method, path, parameter name, location, every path parameter) of every operation."""
    found = []
    for path, item in app.openapi()["paths"].items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            parameters = operation.get("parameters", [])
            in_path = [p["name"] for p in parameters if p["in"] == "path"]
            for parameter in parameters:
                if parameter["in"] in ("query", "path"):
                    found.append((method, path, parameter["name"], parameter["in"], in_path))
    return found


APPS = _apps()
PARAMETERS = [
    pytest.param(service, *parameter, id=f"{service}:{parameter[0]} {parameter[1]} {parameter[2]}")
    for service, app in APPS.items()
    for parameter in _parameters(app)
]


@pytest.fixture(scope="module")
def clients() -> Iterator[dict[str, tuple[TestClient, dict[str, str]]]]:
    with TestClient(APPS["auth"]) as auth, TestClient(APPS["targets"]) as targets:
        login = auth.post(
            "/auth/login", json={"username": "admin", "password": "admin-password-123"}
        )
        auth_headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        yield {"auth": (auth, auth_headers), "targets": (targets, TOKENS.auth_headers("admin"))}


def _echoed(marker: str, text: str) -> bool:
    forms = {marker, json.dumps(marker)[1:-1], quote(marker), quote(marker, safe="")}
    return any(form in text for form in forms)


def test_every_parameter_is_covered() -> None:
    names = {(p.values[0], p.values[3]) for p in PARAMETERS}
    assert ("targets", "sort") in names
    assert ("targets", "target_id") in names


@pytest.mark.parametrize(("service", "method", "path", "name", "where", "in_path"), PARAMETERS)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(marker=MARKERS)
def test_no_parameter_value_comes_back(
    clients: dict[str, tuple[TestClient, dict[str, str]]],
    service: str,
    method: str,
    path: str,
    name: str,
    where: str,
    in_path: list[str],
    marker: str,
) -> None:
    client, headers = clients[service]
    url = path
    for parameter in in_path:
        value = marker if parameter == name else "1"
        url = url.replace(f"{{{parameter}}}", quote(value, safe=""))
    params = {name: marker} if where == "query" else {}
    response = client.request(method.upper(), url, params=params, headers=headers)
    assert response.status_code < 500, response.text
    assert not _echoed(marker, response.text), response.text
    assert not any(_echoed(marker, value) for value in response.headers.values())


@settings(max_examples=100)
@given(marker=MARKERS)
def test_a_validators_message_that_holds_the_input_is_not_sent(marker: str) -> None:
    errors: list[dict[str, Any]] = [
        {
            "type": "value_error",
            "loc": ("query", "address"),
            "msg": f"Value error, {marker!r} does not appear to be an IPv4 or IPv6 address",
            "input": marker,
            "ctx": {"error": ValueError(f"{marker!r} does not appear to be an address")},
        },
        {
            "type": "uuid_parsing",
            "loc": ("path", "id"),
            "msg": f"Input should be a valid UUID, invalid character: found `{marker[2]}` at 3",
            "input": marker,
            "ctx": {"error": f"invalid character: found `{marker[2]}` at 3"},
        },
    ]
    details = validation_error_details(errors)
    body = problem_response(ValidationError(errors=details), request_id="r").body.decode()
    assert not _echoed(marker, body)
    assert [detail.field for detail in details] == ["address", "id"]
    assert details[1].detail == "Input should be a valid UUID."


@settings(max_examples=100)
@given(marker=MARKERS)
def test_an_unknown_sort_field_is_named_by_position_not_echoed(marker: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_sort(f"name,{marker}", frozenset({"name", "created_at"}))
    error = caught.value
    text = str(error.detail) + "".join(detail.detail for detail in error.errors)
    assert not _echoed(marker, text)
    assert "created_at, name" in text
    assert "2" in text  # which one of the fields it was
