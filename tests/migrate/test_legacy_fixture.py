"""End to end on the legacy fixture: the old service answers the old shapes; after
`opsconductor-migrate --write` it imports, starts under uvicorn and answers the shared ones,
and what it left is exactly the manual-step list."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opsconductor_migrate.cli import EXIT_MANUAL, EXIT_OK, main
from opsconductor_shared.testing import LiveServer, closed_port_url

from .legacy import FIXTURE, SECRET, SERVICE, bearer, loaded_app

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"

# (file, line, what) of every manual step the codemod lists on the fixture, in order.
EXPECTED_MANUAL = [
    ("clients.py", 12, "get_service_client(...)"),
    ("jobs.py", 21, "list endpoint list_jobs (answers the old {data, meta} page)"),
    ("jobs.py", 24, "shared.models.pagination_meta"),
    ("jobs.py", 33, "BadRequestError with `field=`"),
    ("jobs.py", 59, "HTTPException with a status that is not a literal"),
    ("main.py", 20, 'setup_service_logging set the log level to os.getenv("LOG_LEVEL", "INFO")'),
    ("main.py", 33, "CORSMiddleware added by hand"),
    ("main.py", 45, "route GET /health"),
    ("storage.py", 46, "shared.database.get_db_cursor"),
    ("targets.py", 33, "POST create_target answers 200"),
    ("targets.py", 75, "create_success_response without data"),
]


def run_codemod(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    """A copy of the fixture after `opsconductor-migrate --write --format json`."""
    root = tmp_path_factory.mktemp("legacy")
    shutil.copytree(FIXTURE, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    code, out, _ = run_codemod("--write", "--format", "json", str(root / SERVICE))
    report = json.loads(out)
    assert code == EXIT_MANUAL, report
    return root, report


@pytest.fixture
def legacy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET_KEY", SECRET)
    monkeypatch.setenv("EXECUTOR_SERVICE_URL", closed_port_url())


@pytest.fixture
def migrated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TARGETS_SERVICE_AUTH__HS256_SECRET", SECRET)
    monkeypatch.setenv("EXECUTOR_SERVICE_URL", closed_port_url())
    monkeypatch.setenv("EXECUTOR_SERVICE_RETRY__ATTEMPTS", "1")


@pytest.mark.usefixtures("legacy_env")
def test_the_legacy_service_answers_the_old_shapes() -> None:
    with (
        loaded_app(FIXTURE) as app,
        LiveServer(app) as server,
        httpx.Client(base_url=server.url, timeout=10) as http,
    ):
        anonymous = http.get("/targets")
        assert anonymous.json() == {"detail": "Not authenticated"}

        created = http.post(
            "/targets", json={"name": "web-1", "hostname": "10.0.0.5"}, headers=bearer()
        )
        assert created.status_code == 200
        envelope = created.json()
        assert envelope["success"] is True
        assert envelope["message"] == "Target created"
        assert envelope["data"]["created_by"] == "alice"
        assert "timestamp" in envelope

        duplicate = http.post("/targets", json={"name": "web-1", "hostname": "x"}, headers=bearer())
        assert duplicate.status_code == 409
        assert duplicate.json() == {
            "error": {
                "code": "TARGET_EXISTS",
                "message": "A target named web-1 already exists",
                "status_code": 409,
                "path": "/targets",
                "method": "POST",
            }
        }
        page = http.get("/targets", params={"skip": 0, "limit": 10}, headers=bearer("viewer"))
        assert page.json()["total"] == 1
        assert [t["name"] for t in page.json()["targets"]] == ["web-1"]

        missing = http.get("/targets/999", headers=bearer())
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "NOT_FOUND"
        assert missing.json()["error"]["context"] == {"resource": "Target", "resource_id": 999}
        assert http.put("/targets/999", json={}, headers=bearer()).json() == {
            "detail": "Target not found"
        }
        forbidden = http.delete("/targets/1", headers=bearer("viewer"))
        assert forbidden.status_code == 403
        assert forbidden.json()["error"]["code"] == "PERMISSION_DENIED"

        target_id = envelope["data"]["id"]
        job = http.post(
            "/jobs",
            json={"name": "patch", "command": "apt upgrade", "target_ids": [target_id]},
            headers=bearer(),
        )
        assert job.status_code == 201
        jobs = http.get("/jobs", headers=bearer()).json()
        assert [j["name"] for j in jobs["data"]] == ["patch"]
        assert jobs["meta"]["total_items"] == 1
        runs = http.get(f"/jobs/{job.json()['id']}/runs", headers=bearer())
        assert runs.json() == {"runs": [], "total": 0}
        assert http.get("/no/such/route").json() == {"detail": "Not Found"}
        invalid = http.post("/jobs", json={"name": "x"}, headers=bearer())
        assert invalid.status_code == 422
        assert isinstance(invalid.json()["detail"], list)


def test_the_codemod_lists_exactly_what_it_left(migrated: tuple[Path, dict[str, Any]]) -> None:
    root, report = migrated
    service = root / SERVICE
    listed = [
        (str(Path(step["path"]).relative_to(service)), step["line"], step["what"])
        for step in report["manual_steps"]
    ]
    assert listed == EXPECTED_MANUAL
    assert all(step["step"] for step in report["manual_steps"])
    # What still names the old package is exactly what a manual step is about.
    left = sorted(
        path.name
        for path in service.glob("*.py")
        if re.search(r"^\s*(from|import) shared\b", path.read_text(), re.MULTILINE)
    )
    assert left == ["jobs.py", "storage.py", "targets.py"]
    assert report["summary"]["manual_steps"] == len(EXPECTED_MANUAL)
    assert [Path(f["path"]).name for f in report["files"] if f["changed"]] == [
        "clients.py",
        "jobs.py",
        "main.py",
        "targets.py",
    ]


def test_a_second_run_changes_nothing(migrated: tuple[Path, dict[str, Any]]) -> None:
    root, _ = migrated
    before = {p: p.read_bytes() for p in (root / SERVICE).glob("*.py")}
    code, out, _ = run_codemod("--format", "json", str(root / SERVICE))
    again = json.loads(out)
    assert [f["path"] for f in again["files"] if f["changed"]] == []
    assert again["summary"]["rewrites"] == {}
    assert code in (EXIT_OK, EXIT_MANUAL)
    assert {p: p.read_bytes() for p in before} == before


@pytest.mark.usefixtures("migrated_env")
def test_the_migrated_service_answers_the_shared_shapes(
    migrated: tuple[Path, dict[str, Any]],
) -> None:
    root, _ = migrated
    with (
        loaded_app(root) as app,
        LiveServer(app) as server,
        httpx.Client(base_url=server.url, timeout=10) as http,
    ):
        anonymous = http.get("/targets")
        assert anonymous.status_code == 401
        assert anonymous.headers["content-type"] == PROBLEM
        assert anonymous.json()["code"] == "UNAUTHORIZED"
        assert anonymous.json()["request_id"] == anonymous.headers["x-request-id"]

        created = http.post(
            "/targets", json={"name": "web-1", "hostname": "10.0.0.5"}, headers=bearer()
        )
        assert created.status_code == 200  # listed as a manual step: 201 is a caller-visible change
        target = created.json()
        assert target["name"] == "web-1"
        assert target["created_by"] == "alice"
        assert "success" not in target

        duplicate = http.post("/targets", json={"name": "web-1", "hostname": "x"}, headers=bearer())
        assert duplicate.status_code == 409
        assert duplicate.headers["content-type"] == PROBLEM
        problem = duplicate.json()
        assert problem["code"] == "TARGET_EXISTS"
        assert problem["detail"] == "A target named web-1 already exists"
        assert problem["status"] == 409
        assert problem["instance"] == "/targets"
        assert "error" not in problem

        page = http.get("/targets", params={"page": 1, "per_page": 10}, headers=bearer("viewer"))
        assert page.status_code == 200
        body = page.json()
        assert [t["name"] for t in body["items"]] == ["web-1"]
        assert body["pagination"]["total_items"] == 1
        assert body["pagination"]["page"] == 1
        assert body["pagination"]["has_next"] is False
        too_big = http.get("/targets", params={"per_page": 5000}, headers=bearer())
        assert too_big.status_code == 422
        assert too_big.json()["code"] == "VALIDATION_ERROR"

        missing = http.get("/targets/999", headers=bearer())
        assert (missing.status_code, missing.json()["code"]) == (404, "NOT_FOUND")
        assert missing.json()["detail"] == "Target 999 was not found."
        not_found = http.put("/targets/999", json={}, headers=bearer())
        assert (not_found.status_code, not_found.json()["detail"]) == (404, "Target not found")
        bad_port = http.put(f"/targets/{target['id']}", json={"port": 0}, headers=bearer())
        assert (bad_port.status_code, bad_port.json()["code"]) == (400, "BAD_REQUEST")
        forbidden = http.delete(f"/targets/{target['id']}", headers=bearer("viewer"))
        assert (forbidden.status_code, forbidden.json()["code"]) == (403, "FORBIDDEN")

        job = http.post(
            "/jobs",
            json={"name": "patch", "command": "apt upgrade", "target_ids": [target["id"]]},
            headers=bearer(),
        )
        assert job.status_code == 201
        assert job.json()["created_by"] == "alice"
        empty = http.post(
            "/jobs", json={"name": "x", "command": "y", "target_ids": []}, headers=bearer()
        )
        assert (empty.status_code, empty.json()["code"]) == (400, "BAD_REQUEST")
        runs = http.get(f"/jobs/{job.json()['id']}/runs", headers=bearer()).json()
        assert runs["items"] == []
        assert runs["pagination"]["total_items"] == 0
        no_job = http.get("/jobs/999/runs", headers=bearer())
        assert (no_job.status_code, no_job.json()["code"]) == (404, "NOT_FOUND")
        executor_down = http.post(f"/jobs/{job.json()['id']}/run", headers=bearer())
        assert executor_down.status_code in (502, 503)
        assert executor_down.headers["content-type"] == PROBLEM
        assert executor_down.json()["code"] in ("UPSTREAM_ERROR", "SERVICE_UNAVAILABLE")

        unknown = http.get("/no/such/route")
        assert (unknown.status_code, unknown.json()["code"]) == (404, "NOT_FOUND")
        invalid = http.post("/jobs", json={"name": "x"}, headers=bearer())
        assert invalid.status_code == 422
        assert invalid.json()["errors"]
        assert http.get("/health/ready").status_code == 200
        # Left by the codemod, as listed: the old {data, meta} page.
        assert set(http.get("/jobs", headers=bearer()).json()) == {"data", "meta"}


# What `validate` reports beyond the migration rules, on any FastAPI service that has not
# named its operations, documented its 404s or marked its public routes: not about the old
# package, so not the codemod's to list.
GENERAL_RULES = {"operation-id", "documented-errors", "security-declared"}
# Each migration finding on the migrated copy, by rule and operation, and the manual step
# the codemod listed for it: validate finds nothing the codemod did not list.
MIGRATION_FINDINGS = {
    ("legacy-skip-limit", "GET /jobs"): EXPECTED_MANUAL[1],
    ("legacy-create-status", "POST /targets"): EXPECTED_MANUAL[9],
}


def validate_json(root: Path, *extra: str) -> list[dict[str, Any]]:
    command = shutil.which("opsconductor-contracts", path=str(Path(sys.executable).parent))
    if command is None:
        pytest.skip("the opsconductor-contracts console script is not installed")
    environment = {
        **os.environ,
        "PYTHONPATH": str(root),
        "JWT_SECRET_KEY": SECRET,
        "TARGETS_SERVICE_AUTH__HS256_SECRET": SECRET,
        "EXECUTOR_SERVICE_URL": closed_port_url(),
    }
    result = subprocess.run(
        [command, "validate", "--no-config", "--format", "json", *extra, f"{SERVICE}.main:app"],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    findings: list[dict[str, Any]] = json.loads(result.stdout)["findings"]
    return findings


def _operation(finding: dict[str, Any]) -> str:
    return " ".join(finding["message"].split()[:2])


def test_validate_reports_only_what_the_codemod_listed(
    migrated: tuple[Path, dict[str, Any]],
) -> None:
    root, _ = migrated
    findings = validate_json(root)
    migration = {(f["rule"], _operation(f)): f for f in findings if f["rule"] not in GENERAL_RULES}
    assert set(migration) == set(MIGRATION_FINDINGS)
    assert all(step in EXPECTED_MANUAL for step in MIGRATION_FINDINGS.values())
    assert all(f["severity"] == "warning" and "fix: " in f["message"] for f in migration.values())
    # The service's own /health is listed as a manual step (delete it): the runtime answers
    # /health itself, whatever routes a service declares, so the document has the shared one.
    assert ("main.py", 45, "route GET /health") in EXPECTED_MANUAL
    assert all(f["severity"] == "warning" for f in findings if f["rule"] in GENERAL_RULES)


def test_validate_names_the_old_shapes_of_the_legacy_service() -> None:
    findings = validate_json(FIXTURE)
    migration = sorted(
        {(f["rule"], f["pointer"]) for f in findings if f["rule"].startswith("legacy-")}
    )
    assert migration == [
        ("legacy-create-status", "/paths/~1targets/post/responses/200"),
        ("legacy-page", "/components/schemas/RunList"),
        ("legacy-page", "/components/schemas/TargetList"),
        ("legacy-skip-limit", "/paths/~1jobs/get/parameters/0"),
        ("legacy-skip-limit", "/paths/~1jobs~1{job_id}~1runs/get/parameters/1"),
        ("legacy-skip-limit", "/paths/~1targets/get/parameters/0"),
    ]
    # FastAPI's {detail: [...]} 422 is the validation-envelope rule's, with the same fix.
    assert any(f["rule"] == "validation-envelope" for f in findings)
