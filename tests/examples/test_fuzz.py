"""Schemathesis against both services' OpenAPI documents: no 5xx, and every response has its
documented status, content type and schema. Bounded examples per operation."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from opsconductor_shared.testing import KeySet, TokenFactory
from schemathesis import checks

from examples.auth_service.app import create_app as create_auth_app
from examples.auth_service.settings import AuthServiceSettings
from examples.targets_service.app import create_app as create_targets_app
from examples.targets_service.settings import TargetsSettings
from tests.examples.conftest import PASSWORDS

pytestmark = pytest.mark.slow
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))


# Built at collection time: schemathesis parametrises from the documents.
KEYS = KeySet()
TOKENS = TokenFactory(KEYS, algorithm="HS256")
TARGETS_APP = create_targets_app(
    TargetsSettings(auth=KEYS.hs256_settings(), cursor_secret="fuzz", database=None)
)
AUTH_APP = create_auth_app(
    AuthServiceSettings(
        environment="development",
        signing_key_file=Path(tempfile.mkdtemp(prefix="fuzz-auth-")) / "key.pem",
        seed_passwords=PASSWORDS,
        argon2_time_cost=1,
        argon2_memory_kib=1024,
    )
)
targets = schemathesis.openapi.from_asgi("/openapi.json", TARGETS_APP)
auth = schemathesis.openapi.from_asgi("/openapi.json", AUTH_APP)


@pytest.fixture(scope="module")
def admin_token() -> str:
    with TestClient(AUTH_APP) as client:
        response = client.post(
            "/auth/login", json={"username": "admin", "password": PASSWORDS["admin"]}
        )
    token: str = response.json()["access_token"]
    return token


@targets.parametrize()
@FUZZ
def test_targets_service(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=TOKENS.auth_headers("admin"), checks=CHECKS)


@auth.parametrize()
@FUZZ
def test_auth_service(case: schemathesis.Case, admin_token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {admin_token}"}, checks=CHECKS)
