"""pytest fixtures for testing a service built on opsconductor-shared.

Enable them in the `conftest.py` at the root of your tests:

    pytest_plugins = ["opsconductor_shared.testing.plugin"]

then give the plugin your app, built so that its auth trusts the test key set:

    @pytest.fixture
    def app(auth_settings: AuthSettings) -> FastAPI:
        return create_app(JobsSettings(auth=auth_settings))

    def test_operators_can_list_jobs(api_client, auth_headers):
        assert api_client.get("/jobs", headers=auth_headers("operator")).status_code == 200

Fixtures:

    auth_keys         session: the test `KeySet` (one RSA key, an HS256 secret)
    auth_tokens       a `TokenFactory` that signs HS256 tokens with it
    auth_headers      `auth_headers(role="operator", **claims)`: Authorization headers
    auth_settings     `AuthSettings` that trust those tokens, verified in-process
    fake_auth         a `FakeAuthService` on a loopback port (session-wide, reset per test),
                      for RS256 with a JWKS (`fake_auth.local_settings()`) or remote mode
    captured_logs     `CapturedLogs`: the JSON lines of the logging pipeline
    api_client        a `starlette.testclient.TestClient` on your `app` fixture, lifespan running

Override any of them in your own `conftest.py` (for example `auth_keys` with more keys).
`fake_auth` needs uvicorn (the `server` extra).

At the start of the session the plugin configures the logging pipeline once (JSON lines at
INFO, into pytest's captured output), as a service does at startup: loggers the runtime builds
with an app then always write through the pipeline, so `captured_logs` sees them whichever
fixture came first.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from .. import setup_service_logging
from ..auth import AuthSettings
from ._fake_auth import FakeAuthService
from ._logs import DEFAULT_TEST_SERVICE, CapturedLogs, capture_json_logs
from ._tokens import KeySet, TokenFactory

if TYPE_CHECKING:
    from starlette.testclient import TestClient

__all__ = [
    "api_client",
    "auth_headers",
    "auth_keys",
    "auth_settings",
    "auth_tokens",
    "captured_logs",
    "fake_auth",
    "fake_auth_server",
    "pytest_sessionstart",
]


def pytest_sessionstart() -> None:
    """Configure the logging pipeline once for the session (see the module docstring)."""
    setup_service_logging(DEFAULT_TEST_SERVICE, level="INFO", json=True)


@pytest.fixture(scope="session")
def auth_keys() -> KeySet:
    """The test key set, shared by the session (RSA keys take a while to generate)."""
    return KeySet()


@pytest.fixture
def auth_tokens(auth_keys: KeySet) -> TokenFactory:
    """A factory of HS256 test tokens that `auth_settings` accepts."""
    return TokenFactory(auth_keys, algorithm="HS256")


@pytest.fixture
def auth_headers(auth_tokens: TokenFactory) -> Callable[..., dict[str, str]]:
    """`auth_headers(role="operator", **claims)`: `Authorization: Bearer` with a new token."""
    return auth_tokens.auth_headers


@pytest.fixture
def auth_settings(auth_keys: KeySet) -> AuthSettings:
    """Local-mode `AuthSettings` that trust the key set's HS256 secret (no network)."""
    return auth_keys.hs256_settings()


@pytest.fixture(scope="session")
def fake_auth_server(auth_keys: KeySet) -> Iterator[FakeAuthService]:
    """One `FakeAuthService` served on loopback for the session (use `fake_auth`)."""
    fake = FakeAuthService(auth_keys)
    with fake.serve():
        yield fake


@pytest.fixture
def fake_auth(fake_auth_server: FakeAuthService) -> FakeAuthService:
    """The session's `FakeAuthService`, reset: first key only, every mode `ok`, no calls."""
    fake_auth_server.reset()
    return fake_auth_server


@pytest.fixture
def captured_logs() -> Iterator[CapturedLogs]:
    """The JSON lines the logging pipeline writes during the test."""
    with capture_json_logs() as logs:
        yield logs


@pytest.fixture
def api_client(app: Any) -> Iterator[TestClient]:
    """A test client on the `app` fixture (which you define), with its lifespan running."""
    # Imported here, and quietly: Starlette 1.x warns at import that its test client wants
    # httpx2 instead of httpx, which would fail every run with warnings as errors, whether
    # the test uses this fixture or not.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
        from starlette.testclient import TestClient  # noqa: PLC0415

    with TestClient(app) as client:
        yield client
