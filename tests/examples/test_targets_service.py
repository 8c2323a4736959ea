"""The targets service: CRUD with role rules, paging, sorting, filtering, bulk, audit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opsconductor_conformance import assert_conforms
from opsconductor_contracts import AuditLog, BulkOperationResult

AuthHeaders = Callable[..., dict[str, str]]


@pytest.fixture
def client(targets_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(targets_app) as test_client:
        yield test_client


def _target(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "hostname": f"{name}.example.com", "os_type": "linux", **extra}


def _create(
    client: TestClient, auth_headers: AuthHeaders, name: str, **extra: Any
) -> dict[str, Any]:
    response = client.post(
        "/targets", json=_target(name, **extra), headers=auth_headers("operator")
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_no_token_no_access(client: TestClient) -> None:
    response = client.get("/targets")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["code"] == "UNAUTHORIZED"


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed"),
    [
        ("GET", "/targets", None, {"viewer", "operator", "admin"}),
        ("POST", "/targets", _target("roles-1"), {"operator", "admin"}),
        ("DELETE", "/targets/1", None, {"admin"}),
        ("GET", "/audit", None, {"admin"}),
    ],
)
def test_role_rules(
    client: TestClient,
    auth_headers: AuthHeaders,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    allowed: set[str],
) -> None:
    _create(client, auth_headers, "existing")
    for role in ("viewer", "operator", "admin"):
        response = client.request(method, path, json=body, headers=auth_headers(role))
        if role in allowed:
            assert response.status_code not in (401, 403), (role, response.text)
        else:
            assert response.status_code == 403, role
            assert response.json()["code"] == "FORBIDDEN"


def test_crud_and_optimistic_locking(client: TestClient, auth_headers: AuthHeaders) -> None:
    created = _create(client, auth_headers, "web-01", tags=["web"], ip_address="192.0.2.10")
    assert (created["lock_version"], created["created_by"], created["ip_address"]) == (
        1,
        "1",  # the `sub` of the testing kit's tokens
        "192.0.2.10",
    )
    duplicate = client.post("/targets", json=_target("WEB-01"), headers=auth_headers("operator"))
    assert duplicate.status_code == 409
    target_id = created["id"]
    updated = client.patch(
        f"/targets/{target_id}",
        json={"lock_version": 1, "port": 2222},
        headers=auth_headers("operator"),
    )
    assert updated.json()["lock_version"] == 2
    stale = client.patch(
        f"/targets/{target_id}",
        json={"lock_version": 1, "port": 2223},
        headers=auth_headers("operator"),
    )
    assert stale.status_code == 409
    assert "lock_version 2" in stale.json()["detail"]
    null = client.patch(
        f"/targets/{target_id}",
        json={"lock_version": 2, "os_type": None},
        headers=auth_headers("operator"),
    )
    assert null.status_code == 422  # not nullable in the schema either (test_targets_schema)
    assert client.delete(f"/targets/{target_id}", headers=auth_headers("admin")).status_code == 204
    missing = client.get(f"/targets/{target_id}", headers=auth_headers("viewer"))
    assert missing.status_code == 404
    assert missing.json()["detail"] == f"Target {target_id} was not found."


def test_offset_paging_sorting_and_filters(client: TestClient, auth_headers: AuthHeaders) -> None:
    for index, os_type in enumerate(["linux", "windows", "linux", "macos", "linux"]):
        _create(
            client,
            auth_headers,
            f"host-{index}",
            os_type=os_type,
            tags=["even"] if index % 2 == 0 else [],
        )
    page = client.get(
        "/targets",
        params={"per_page": 2, "page": 2, "sort": "-name"},
        headers=auth_headers("viewer"),
    ).json()
    assert [t["name"] for t in page["items"]] == ["host-2", "host-1"]
    assert {
        k: page["pagination"][k]
        for k in ("page", "per_page", "total_items", "total_pages", "has_next", "has_prev")
    } == {
        "page": 2,
        "per_page": 2,
        "total_items": 5,
        "total_pages": 3,
        "has_next": True,
        "has_prev": True,
    }
    linux = client.get(
        "/targets", params={"os_type": "linux", "tag": "even"}, headers=auth_headers("viewer")
    ).json()
    assert [t["name"] for t in linux["items"]] == ["host-0", "host-2", "host-4"]
    search = client.get(
        "/targets", params={"search": "HOST-3"}, headers=auth_headers("viewer")
    ).json()
    assert [t["name"] for t in search["items"]] == ["host-3"]
    future = client.get(
        "/targets", params={"created_after": "2999-01-01T00:00:00Z"}, headers=auth_headers("viewer")
    ).json()
    assert future["items"] == []
    assert (
        client.get(
            "/targets", params={"sort": "secret"}, headers=auth_headers("viewer")
        ).status_code
        == 422
    )


def test_cursor_paging_walks_every_item_once(client: TestClient, auth_headers: AuthHeaders) -> None:
    names = [f"node-{index:02d}" for index in range(11)]
    for name in reversed(names):
        _create(
            client, auth_headers, name, os_type="windows" if name.endswith(("1", "5")) else "linux"
        )
    seen: list[str] = []
    params: dict[str, Any] = {"per_page": 4, "sort": "os_type,-name"}
    first = client.get("/targets", params=params, headers=auth_headers("viewer")).json()
    seen += [t["name"] for t in first["items"]]
    token = first["pagination"]["next_page_token"]
    while token:
        page = client.get(
            "/targets", params={**params, "page_token": token}, headers=auth_headers("viewer")
        ).json()
        assert page["pagination"]["page"] is None
        seen += [t["name"] for t in page["items"]]
        token = page["pagination"]["next_page_token"]
    expected = sorted(names, key=lambda n: (n.endswith(("1", "5")), [-ord(c) for c in n]))
    assert seen == expected
    assert len(set(seen)) == 11
    other_order = client.get(
        "/targets",
        params={
            "per_page": 4,
            "sort": "name",
            "page_token": first["pagination"]["next_page_token"],
        },
        headers=auth_headers("viewer"),
    )
    assert other_order.status_code == 422


def test_bulk_create_reports_each_item(client: TestClient, auth_headers: AuthHeaders) -> None:
    _create(client, auth_headers, "taken")
    response = client.post(
        "/targets/bulk",
        json={"items": [_target("fresh-1"), _target("taken"), _target("fresh-2")]},
        headers=auth_headers("operator"),
    )
    result = BulkOperationResult.model_validate(response.json())
    assert (result.total, result.succeeded, result.failed) == (3, 2, 1)
    failed = result.items[1]
    assert failed.status.value == "failed"
    assert failed.error is not None
    assert (failed.error.status, failed.error.code) == (409, "CONFLICT")
    assert failed.error.request_id == response.headers["x-request-id"]
    too_many = client.post(
        "/targets/bulk",
        json={"items": [_target(f"x{i}") for i in range(101)]},
        headers=auth_headers("operator"),
    )
    assert too_many.status_code == 422


def test_every_change_is_audited(client: TestClient, auth_headers: AuthHeaders) -> None:
    created = client.post(
        "/targets",
        json=_target("audited"),
        headers={**auth_headers("operator"), "User-Agent": "ops-cli/1.0"},
    )
    client.patch(
        f"/targets/{created.json()['id']}",
        json={"lock_version": 1, "description": "db password=hunter2"},
        headers=auth_headers("operator"),
    )
    client.delete(f"/targets/{created.json()['id']}", headers=auth_headers("admin"))
    entries = [
        AuditLog.model_validate(e)
        for e in client.get("/audit", headers=auth_headers("admin")).json()["items"]
    ]
    assert [e.action for e in entries] == ["target.delete", "target.update", "target.create"]
    create = entries[2]
    assert create.request_id == created.headers["x-request-id"]
    assert (create.actor.id, create.actor.role, create.user_agent, create.source_ip) == (
        "1",
        "operator",
        "ops-cli/1.0",
        "testclient",
    )
    update = entries[1]
    assert update.changes is not None
    assert update.changes.after is not None
    assert "hunter2" not in str(update.changes.after)


def test_conforms_to_the_contracts_strictly(targets_app: FastAPI) -> None:
    assert_conforms(targets_app, strict=True)
