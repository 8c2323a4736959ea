"""The targets service's published schema says exactly what it accepts.

Found by fuzzing with positive and negative data: a boolean was taken for an address
(`false` stored as `0.0.0.0`), strings the schema allowed for `ip_address` and `sort` were
refused, and PATCH refused a `null` the schema allowed. Each check reads the schema from the
service's own OpenAPI document and holds the service to it, in both stores.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opsconductor_shared.testing import KeySet, TokenFactory

from examples.targets_service.app import create_app
from examples.targets_service.settings import TargetsSettings

AuthHeaders = Callable[..., dict[str, str]]


@pytest.fixture
def client(targets_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(targets_app) as test_client:
        yield test_client


def _target(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "hostname": f"{name}.example.com", "os_type": "linux", **extra}


def _component(app: FastAPI, name: str) -> dict[str, Any]:
    schema: dict[str, Any] = app.openapi()["components"]["schemas"][name]
    return schema


def _non_null(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]


@pytest.mark.parametrize("value", [False, True, 0, 3232235777, 1.5, [], {}])
def test_ip_address_must_be_a_string(
    client: TestClient, auth_headers: AuthHeaders, value: object
) -> None:
    response = client.post(
        "/targets", json=_target("ip-type", ip_address=value), headers=auth_headers()
    )
    assert response.status_code == 422, response.text
    assert "/body/ip_address" in {e["pointer"] for e in response.json()["errors"]}


def test_ip_address_schema_names_the_formats_it_accepts(targets_app: FastAPI) -> None:
    for model in ("TargetCreate", "TargetUpdate", "Target"):
        (address,) = _non_null(_component(targets_app, model)["properties"]["ip_address"])
        assert address["type"] == "string"
        assert {s["format"] for s in address["anyOf"]} == {"ipv4", "ipv6"}


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("192.0.2.10", "192.0.2.10"),
        ("0.0.0.0", "0.0.0.0"),
        ("255.255.255.255", "255.255.255.255"),
        ("2001:db8::1", "2001:db8::1"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("::", "::"),
        ("::ffff:192.0.2.1", "::ffff:c000:201"),
    ],
)
def test_every_address_form_is_stored_the_same_in_both_stores(
    client: TestClient, auth_headers: AuthHeaders, sent: str, stored: str
) -> None:
    response = client.post(
        "/targets", json=_target("ip-ok", ip_address=sent), headers=auth_headers()
    )
    assert response.status_code == 201, response.text
    assert response.json()["ip_address"] == stored


@pytest.mark.parametrize(
    "value", ["", "192.0.2", "192.0.2.256", "01.2.3.4", "fe80::1%eth0", "2001:db8::g", " 1.2.3.4"]
)
def test_what_is_not_an_address_is_refused(
    client: TestClient, auth_headers: AuthHeaders, value: str
) -> None:
    response = client.post(
        "/targets", json=_target("ip-bad", ip_address=value), headers=auth_headers()
    )
    assert response.status_code == 422, response.text
    assert value not in response.json()["detail"] or not value


def test_patch_documents_which_fields_may_be_null(
    client: TestClient, auth_headers: AuthHeaders, targets_app: FastAPI
) -> None:
    properties = _component(targets_app, "TargetUpdate")["properties"]
    created = client.post("/targets", json=_target("nulls"), headers=auth_headers()).json()
    for field, value in [
        ("hostname", "h.example.com"),
        ("os_type", "windows"),
        ("port", 2222),
        ("tags", ["a"]),
        ("ip_address", "192.0.2.1"),
        ("description", "x"),
    ]:
        nullable = any(s.get("type") == "null" for s in properties[field].get("anyOf", []))
        current = client.get(f"/targets/{created['id']}", headers=auth_headers()).json()
        response = client.patch(
            f"/targets/{created['id']}",
            json={"lock_version": current["lock_version"], field: None},
            headers=auth_headers(),
        )
        assert (response.status_code == 200) is nullable, (field, response.text)
        assert (
            client.patch(
                f"/targets/{created['id']}",
                json={
                    "lock_version": response.json().get("lock_version", current["lock_version"]),
                    field: value,
                },
                headers=auth_headers(),
            ).status_code
            == 200
        )


# In memory only: a property over the whole string space, not a storage test.
SORT_APP = create_app(TargetsSettings(cursor_secret="test", database=None))


def _sort_parameter(app: FastAPI) -> dict[str, Any]:
    operation = app.openapi()["paths"]["/targets"]["get"]
    (parameter,) = [p for p in operation["parameters"] if p["name"] == "sort"]
    schema: dict[str, Any] = _non_null(parameter["schema"])[0]
    return schema


@pytest.fixture(scope="module")
def sort_client() -> Iterator[TestClient]:
    keys = KeySet()
    app = create_app(TargetsSettings(auth=keys.hs256_settings(), cursor_secret="t", database=None))
    with TestClient(app) as test_client:
        test_client.headers.update(TokenFactory(keys, algorithm="HS256").auth_headers("viewer"))
        yield test_client


PATTERN = _sort_parameter(SORT_APP)["pattern"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.from_regex(PATTERN, fullmatch=True))
def test_every_sort_the_schema_allows_is_accepted(sort_client: TestClient, sort: str) -> None:
    response = sort_client.get("/targets", params={"sort": sort})
    assert response.status_code == 200, (sort, response.text)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=40).filter(lambda s: not re.fullmatch(PATTERN, s)))
def test_every_sort_the_schema_refuses_is_refused(sort_client: TestClient, sort: str) -> None:
    response = sort_client.get("/targets", params={"sort": sort})
    assert response.status_code == 422, (sort, response.text)


def test_patch_fields_keep_their_constraints_in_the_schema(targets_app: FastAPI) -> None:
    create = _component(targets_app, "TargetCreate")["properties"]
    update = _component(targets_app, "TargetUpdate")["properties"]
    assert update["hostname"]["pattern"] == create["hostname"]["pattern"]
    assert (update["port"]["minimum"], update["port"]["maximum"]) == (1, 65535)
    assert update["tags"]["maxItems"] == 32
    for name in ("hostname", "os_type", "port", "tags"):
        assert "default" not in update[name], name


def test_a_path_that_is_no_target_id_is_no_target_route(
    client: TestClient, auth_headers: AuthHeaders
) -> None:
    # `bulk` is no id: PATCH /targets/bulk is a 405 of /targets/bulk, not a 422 of an id.
    response = client.patch("/targets/bulk", json={}, headers=auth_headers("admin"))
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert client.get("/targets/web-01", headers=auth_headers()).status_code == 404
