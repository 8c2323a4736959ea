"""End to end, during the migration: a migrated service and an unmigrated one call each other.

The unmigrated side is the legacy fixture (tests/fixtures/legacy: targets and jobs on the old
`shared` package, under uvicorn); the migrated side is an executor built with
`create_service_app` in compatibility mode, under uvicorn too. Both ways:

- migrated -> legacy: `ServiceClient` gets typed results out of the old success envelope and
  the old pages, and the old error bodies as the upstream's status and code;
- legacy -> migrated: the old jobs service starts runs on the executor, and an old caller
  reads the executor's errors the old way (`body["error"]["code"]`) while migrated callers
  read the shared envelope of the same response.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import httpx
import pytest
from fastapi import FastAPI, Header
from opsconductor_contracts import ErrorResponse
from opsconductor_shared import (
    ConflictError,
    NotFoundError,
    PaginatedResponse,
    ServiceCommunicationError,
    ServiceSettings,
    create_service_app,
)
from opsconductor_shared.client import RetryPolicy, ServiceClient
from opsconductor_shared.testing import LiveServer
from pydantic import BaseModel

from tests.migrate.legacy import FIXTURE, SECRET, bearer, loaded_app

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
PROBLEM = "application/problem+json"


class Target(BaseModel):
    id: int
    name: str
    hostname: str
    created_by: str
    created_at: datetime


class Job(BaseModel):
    id: int
    name: str
    target_ids: list[int]


class ExecutionRequest(BaseModel):
    run_id: int
    command: str
    target_ids: list[int]


class Execution(BaseModel):
    id: int
    run_id: int
    state: str


def executor_app(targets_url: list[str]) -> FastAPI:
    """The migrated executor: runs what the old jobs service asks, and reads the old targets
    service (whose URL is known once it runs: `targets_url[0]`)."""
    app = create_service_app(
        "executor-service",
        "2.0.0",
        ServiceSettings(legacy_error_member=True),
        configure_logging=False,
    )

    def targets() -> ServiceClient:
        return ServiceClient("targets", targets_url[0], retry=RetryPolicy.disabled(), breaker=False)

    @app.post("/api/v1/executions", status_code=201, openapi_extra={"x-public": True})
    async def start_execution(body: ExecutionRequest) -> Execution:
        if body.command == "busy":
            raise ConflictError("The executor is busy.", code="EXECUTOR_BUSY")
        return Execution(id=100 + body.run_id, run_id=body.run_id, state="running")

    @app.get("/fleet/targets", openapi_extra={"x-public": True})
    async def fleet_targets(
        authorization: Annotated[str, Header()],
    ) -> PaginatedResponse[Target]:
        async with targets() as client:
            return await client.get(
                "/targets",
                params={"skip": 0, "limit": 50},
                headers={"Authorization": authorization},
                response_model=PaginatedResponse[Target],
            )

    @app.get("/fleet/targets/{target_id}", openapi_extra={"x-public": True})
    async def fleet_target(target_id: int, authorization: Annotated[str, Header()]) -> Target:
        async with targets() as client:
            try:
                return await client.get(
                    f"/targets/{target_id}",
                    headers={"Authorization": authorization},
                    response_model=Target,
                )
            except ServiceCommunicationError as exc:
                if exc.upstream_code == "NOT_FOUND":
                    raise NotFoundError("Target", target_id) from exc
                raise

    return app


@dataclass(frozen=True)
class Services:
    legacy: str
    executor: str


@pytest.fixture(scope="module")
def services() -> Iterator[Services]:
    targets_url: list[str] = []
    with (
        pytest.MonkeyPatch.context() as env,
        LiveServer(executor_app(targets_url)) as executor,
    ):
        env.setenv("JWT_SECRET_KEY", SECRET)
        env.setenv("EXECUTOR_SERVICE_URL", executor.url)
        with loaded_app(FIXTURE) as app, LiveServer(app) as legacy:
            targets_url.append(legacy.url)
            yield Services(legacy=legacy.url, executor=executor.url)


def legacy_client(services: Services) -> ServiceClient:
    return ServiceClient(
        "targets",
        services.legacy,
        retry=RetryPolicy.disabled(),
        breaker=False,
        headers=bearer("operator"),
    )


async def upstream_error(call: object) -> ServiceCommunicationError:
    with pytest.raises(ServiceCommunicationError) as caught:
        await call  # type: ignore[misc]
    return caught.value


async def test_a_migrated_service_reads_the_unmigrated_one(services: Services) -> None:
    async with legacy_client(services) as targets:
        # The old success envelope {success, timestamp, data, message}: the payload, typed.
        created = await targets.post(
            "/targets", json={"name": "web-1", "hostname": "10.0.0.5"}, response_model=Target
        )
        assert (created.name, created.created_by) == ("web-1", "alice")

        # The old {<plural>, total} page, read with the call's own skip and limit.
        page = await targets.get(
            "/targets", params={"skip": 0, "limit": 10}, response_model=PaginatedResponse[Target]
        )
        assert page.items == [created]
        assert (page.pagination.page, page.pagination.per_page) == (1, 10)
        assert (page.pagination.total_items, page.pagination.has_next) == (1, False)

        job = await targets.post(
            "/jobs",
            json={"name": "patch", "command": "apt upgrade", "target_ids": [created.id]},
            response_model=Job,
        )
        # The old {data, meta} page (the users service's shape).
        jobs = await targets.get("/jobs", response_model=PaginatedResponse[Job])
        assert jobs.items == [job]
        assert jobs.pagination.total_items == 1

        # Old errors keep the upstream's status and code.
        duplicate = await upstream_error(
            targets.post("/targets", json={"name": "web-1", "hostname": "x"}, response_model=Target)
        )
        assert (duplicate.upstream_status, duplicate.upstream_code) == (409, "TARGET_EXISTS")
        assert duplicate.upstream_error is not None
        assert duplicate.upstream_error.detail == "A target named web-1 already exists"
        assert duplicate.upstream_request_id  # the old X-Request-ID header

        missing = await upstream_error(targets.get("/targets/999", response_model=Target))
        assert (missing.upstream_status, missing.upstream_code) == (404, "NOT_FOUND")
        detail_only = await upstream_error(
            targets.put("/targets/999", json={}, response_model=Target)
        )
        assert (detail_only.upstream_status, detail_only.upstream_code) == (404, "NOT_FOUND")
        assert detail_only.upstream_error is not None
        assert detail_only.upstream_error.detail == "Target not found"
        forbidden = await upstream_error(
            targets.delete(f"/targets/{created.id}", headers=bearer("viewer"), response_model=Job)
        )
        assert (forbidden.upstream_status, forbidden.upstream_code) == (403, "PERMISSION_DENIED")
        invalid = await upstream_error(
            targets.post("/jobs", json={"name": "x"}, response_model=Job)
        )
        assert (invalid.upstream_status, invalid.upstream_code) == (422, "VALIDATION_ERROR")
        assert invalid.upstream_error is not None
        assert {p.pointer for p in invalid.upstream_error.errors} == {
            "/body/command",
            "/body/target_ids",
        }

    # Through the migrated service's own routes: its callers get the shared shapes.
    async with httpx.AsyncClient(
        base_url=services.executor, timeout=10, headers=bearer("viewer")
    ) as http:
        fleet = await http.get("/fleet/targets")
        assert fleet.status_code == 200
        assert [t["name"] for t in fleet.json()["items"]] == ["web-1"]
        assert fleet.json()["pagination"]["total_items"] == 1
        gone = await http.get("/fleet/targets/999")
        assert gone.status_code == 404
        assert gone.headers["content-type"] == PROBLEM
        assert ErrorResponse.model_validate(gone.json()).code == "NOT_FOUND"


async def test_the_unmigrated_service_calls_the_migrated_one(services: Services) -> None:
    async with httpx.AsyncClient(
        base_url=services.legacy, timeout=10, headers=bearer("operator")
    ) as old:
        target = (await old.post("/targets", json={"name": "db-1", "hostname": "10.0.0.9"})).json()[
            "data"
        ]
        job = (
            await old.post(
                "/jobs", json={"name": "ok", "command": "uptime", "target_ids": [target["id"]]}
            )
        ).json()
        run = await old.post(f"/jobs/{job['id']}/run")
        # The old jobs service's old client got the executor's 201 and went on.
        assert (run.status_code, run.json()["status"]) == (202, "running")

        busy = (
            await old.post(
                "/jobs", json={"name": "busy", "command": "busy", "target_ids": [target["id"]]}
            )
        ).json()
        refused = await old.post(f"/jobs/{busy['id']}/run")
        # The executor's status went back through the old service, its code inside the text.
        assert refused.status_code == 409
        assert "EXECUTOR_BUSY" in refused.json()["detail"]

    # An old caller reads the migrated executor's errors the old way; a migrated caller reads
    # the shared envelope of the very same response.
    async with httpx.AsyncClient(base_url=services.executor, timeout=10) as http:
        answer = await http.post(
            "/api/v1/executions", json={"run_id": 1, "command": "busy", "target_ids": [1]}
        )
        body = answer.json()
        assert answer.status_code == 409
        assert body["error"]["code"] == "EXECUTOR_BUSY"
        assert body["error"]["message"] == "The executor is busy."
        assert body["error"]["status_code"] == 409
        shared = ErrorResponse.model_validate(body)
        assert (shared.code, shared.detail) == ("EXECUTOR_BUSY", "The executor is busy.")
        invalid = (await http.post("/api/v1/executions", json={"run_id": "x"})).json()
        assert invalid["error"]["code"] == "VALIDATION_ERROR"
        assert invalid["errors"]

    # And the old package's own client reads the migrated executor's success as it always did.
    with loaded_app(FIXTURE):
        old_utils = importlib.import_module("shared.utils")
        client = old_utils.ServiceClient("executor", services.executor)
        started = await client.post(
            "/api/v1/executions", json={"run_id": 7, "command": "uptime", "target_ids": [1]}
        )
    assert started == {"id": 107, "run_id": 7, "state": "running"}
