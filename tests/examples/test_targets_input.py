"""The targets service refuses what its storage cannot hold, the same way in both stores.

A NUL character cannot be stored in a PostgreSQL text column: the driver refuses it before
sending (`psycopg.DataError`, no SQLSTATE). The service refuses it first, as a 422 naming the
field, in memory too, so the two stores answer alike; and the runtime maps any driver
`DataError` to 422, should one get through.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opsconductor_shared.database import handle_database_error

AuthHeaders = Callable[..., dict[str, str]]
NUL = "a\x00b"


@pytest.fixture
def client(targets_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(targets_app) as test_client:
        yield test_client


def _target(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "hostname": f"{name}.example.com", "os_type": "linux", **extra}


def _assert_refused(response: Any, pointer: str) -> None:
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "VALIDATION_ERROR"
    assert pointer in {error.get("pointer") for error in problem["errors"]}
    assert "\x00" not in response.text
    assert "\\u0000" not in response.text


def test_nul_in_a_body_field_is_a_422(client: TestClient, auth_headers: AuthHeaders) -> None:
    response = client.post(
        "/targets", json=_target("nul-1", description=NUL), headers=auth_headers("operator")
    )
    _assert_refused(response, "/body/description")
    bulk = client.post(
        "/targets/bulk",
        json={"items": [_target("nul-2", description=NUL)]},
        headers=auth_headers("operator"),
    )
    _assert_refused(bulk, "/body/items/0/description")
    created = client.post("/targets", json=_target("nul-3"), headers=auth_headers("operator"))
    assert created.status_code == 201, created.text
    patch = client.patch(
        f"/targets/{created.json()['id']}",
        json={"lock_version": 1, "description": NUL},
        headers=auth_headers("operator"),
    )
    _assert_refused(patch, "/body/description")


@pytest.mark.parametrize("parameter", ["search", "tag"])
def test_nul_in_a_query_parameter_is_a_422(
    client: TestClient, auth_headers: AuthHeaders, parameter: str
) -> None:
    response = client.get("/targets", params={parameter: NUL}, headers=auth_headers("viewer"))
    _assert_refused(response, f"/query/{parameter}")


def test_a_driver_data_error_without_sqlstate_is_a_422() -> None:
    # What psycopg raises, before sending anything, for a NUL in a text parameter.
    error = psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
    mapped = handle_database_error(error)
    assert (mapped.status, mapped.code) == (422, "VALIDATION_ERROR")
