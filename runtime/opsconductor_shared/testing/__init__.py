"""Testing kit for services built on opsconductor-shared, and for this project's own tests.

Test a service's routes without minting JWTs by hand, without a real auth service, and without
sleeping for things to happen:

    keys = KeySet()                                  # test RSA keys and an HS256 secret
    tokens = TokenFactory(keys, algorithm="HS256")   # tokens of the token-claims contract
    app = create_app(JobsSettings(auth=keys.hs256_settings()))
    with TestClient(app) as client:
        client.get("/jobs", headers=tokens.auth_headers("operator", permissions=["jobs:run"]))

    fake = FakeAuthService(keys)                     # JWKS, /auth/verify, failure modes
    with fake.serve():                               # on a loopback port (uvicorn)
        settings = fake.local_settings()             # or fake.remote_settings()

    forged_tokens(fake.tokens)                       # hostile tokens a route must refuse (401)
    with capture_json_logs() as logs: ...            # the JSON lines, parsed
    with LiveServer(app) as server: ...              # real uvicorn, in a thread
    async with app_client(app) as client: ...        # httpx in-process, lifespan running
    wait_until(lambda: logs.events("request"))       # a bounded poll, never a fixed sleep

The pytest plugin `opsconductor_shared.testing.plugin` turns these into fixtures
(`auth_headers`, `auth_settings`, `fake_auth`, `captured_logs`, `api_client`); see its docstring.

Importing `opsconductor_shared` never imports this package; this package imports uvicorn only
when a `LiveServer` is made, and pytest only in the plugin.
"""

from ._fake_auth import FAKE_AUTH_MODES, FakeAuthService
from ._forged import forged_tokens
from ._logs import DEFAULT_TEST_SERVICE, CapturedLogs, capture_json_logs
from ._server import DEFAULT_START_TIMEOUT, LiveServer, app_client, closed_port, closed_port_url
from ._tokens import (
    DEFAULT_HS256_SECRET,
    DEFAULT_KID,
    DEFAULT_TOKEN_TTL,
    KeySet,
    TokenFactory,
    bearer_headers,
)
from ._wait import DEFAULT_POLL_INTERVAL, DEFAULT_WAIT_TIMEOUT, async_wait_until, wait_until

__all__ = [
    "CapturedLogs",
    "DEFAULT_HS256_SECRET",
    "DEFAULT_KID",
    "DEFAULT_POLL_INTERVAL",
    "DEFAULT_START_TIMEOUT",
    "DEFAULT_TEST_SERVICE",
    "DEFAULT_TOKEN_TTL",
    "DEFAULT_WAIT_TIMEOUT",
    "FAKE_AUTH_MODES",
    "FakeAuthService",
    "KeySet",
    "LiveServer",
    "TokenFactory",
    "app_client",
    "async_wait_until",
    "bearer_headers",
    "capture_json_logs",
    "closed_port",
    "closed_port_url",
    "forged_tokens",
    "wait_until",
]
