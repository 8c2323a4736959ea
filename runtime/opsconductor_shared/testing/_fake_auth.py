"""`FakeAuthService`: the auth service's endpoints for tests, with real tokens and failure modes.

    fake = FakeAuthService()
    with fake.serve():                               # a LiveServer on loopback
        install_auth(app, fake.local_settings())     # or fake.remote_settings()
        client.get("/me", headers=fake.tokens.auth_headers("admin"))
        fake.mode = "fail"                           # the verify endpoint now answers 500

It publishes the RSA keys of its `KeySet` as a JWKS (`GET /.well-known/jwks.json`), verifies
tokens on `POST /auth/verify` as the real service does (signature, expiry, token type, and
`token_version` revocation against `current_versions`), answers `GET /health/live`, and counts
every call by endpoint in `calls`. Request and response bodies are the auth contracts
(`VerifyRequest`, `VerifyResponse`, `JsonWebKeySet`).

Failure modes, for `mode` (verify and health) and `jwks_mode` (the JWKS):

    ok             answer normally
    fail           500
    hang           wait `hang_seconds`, then 500 (a timeout, for the caller)
    garbage        200 with a body that is not the contract
    html           200 with an HTML page (a proxy's maintenance page)
    other_subject  verify only: vouch for another user than the token's (a confused deputy)

`verify_delay` slows every verification down, so that concurrent requests overlap.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import anyio
import jwt
from opsconductor_contracts import Identity, VerifyRequest, VerifyResponse
from pydantic import ValidationError as PydanticValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ..auth import AuthSettings
from ..auth._settings import DEFAULT_AUDIENCE, DEFAULT_ISSUER
from ._server import LiveServer
from ._tokens import KeySet, TokenFactory

__all__ = [
    "FAKE_AUTH_MODES",
    "FakeAuthService",
]

FAKE_AUTH_MODES = frozenset({"ok", "fail", "hang", "garbage", "html", "other_subject"})
_JWKS_PATH = "/.well-known/jwks.json"
_VERIFY_PATH = "/auth/verify"


def _checked_mode(mode: str) -> str:
    if mode not in FAKE_AUTH_MODES:
        raise ValueError(f"unknown fake auth mode {mode!r}; use one of {sorted(FAKE_AUTH_MODES)}")
    return mode


class FakeAuthService:
    """The auth service's JWKS, verify and health endpoints, for tests (module docstring).

    Args:
        keys: the signing keys; default: a new `KeySet` with one RSA key. Its first key is
            published and signs, until `rotate`.
        issuer: the `iss` of its tokens, and the one it requires.
        audience: the `aud` of its tokens, and the one it requires.
    """

    def __init__(
        self,
        keys: KeySet | None = None,
        *,
        issuer: str = DEFAULT_ISSUER,
        audience: str = DEFAULT_AUDIENCE,
    ) -> None:
        self.keys = keys or KeySet()
        self.issuer = issuer
        self.audience = audience
        self.url: str | None = None
        """The base URL while it is served (`serve`), or where a test serves it."""
        self.app = Starlette(
            routes=[
                Route(_JWKS_PATH, self._jwks_endpoint, methods=["GET"]),
                Route(_VERIFY_PATH, self._verify_endpoint, methods=["POST"]),
                Route("/health/live", self._health_endpoint, methods=["GET"]),
            ]
        )
        self.reset()

    def reset(self) -> None:
        """Back to the initial state: first key only, every mode `ok`, no calls counted."""
        first = self.keys.kids[0]
        self.published: list[str] = [first]
        self.signing_kid = first
        self.calls: Counter[str] = Counter()
        self._mode = "ok"
        self._jwks_mode = "ok"
        self.verify_delay = 0.0
        self.hang_seconds = 10.0
        self.current_versions: dict[str, int] = {}
        self.seen_headers: list[dict[str, str]] = []

    @property
    def mode(self) -> str:
        """How the verify and health endpoints behave (see the module docstring)."""
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        self._mode = _checked_mode(value)

    @property
    def jwks_mode(self) -> str:
        """How the JWKS endpoint behaves (see the module docstring)."""
        return self._jwks_mode

    @jwks_mode.setter
    def jwks_mode(self, value: str) -> None:
        self._jwks_mode = _checked_mode(value)

    # -- tokens and keys ---------------------------------------------------------------------
    @property
    def tokens(self) -> TokenFactory:
        """A token factory that signs with the current signing key (RS256)."""
        return TokenFactory(
            self.keys, kid=self.signing_kid, issuer=self.issuer, audience=self.audience
        )

    def issue(self, role: str = "operator", **kwargs: Any) -> str:
        """A token signed with the current signing key (arguments of `TokenFactory.issue`)."""
        return self.tokens.issue(role, **kwargs)

    def rotate(self, kid: str, *, keep_old: bool = True) -> None:
        """Sign with key `kid` from now on, and publish it (generated if the set lacks it).

        Args:
            kid: the new signing key.
            keep_old: keep publishing the keys published so far (a graceful rotation).
        """
        self.keys.add(kid)
        self.published = [*self.published, kid] if keep_old else [kid]
        self.signing_kid = kid

    def jwks(self) -> dict[str, Any]:
        """The JWKS document it serves now (the published keys)."""
        return self.keys.jwks(self.published).model_dump(mode="json", exclude_none=True)

    # -- where it is, and settings that trust it ---------------------------------------------
    def _base_url(self) -> str:
        if self.url is None:
            raise RuntimeError(
                "the fake auth service is not being served: use `with fake.serve():`"
            )
        return self.url

    def local_settings(self, **overrides: Any) -> AuthSettings:
        """`AuthSettings` in local mode against its JWKS (while served).

        Raises:
            RuntimeError: it is not being served.
        """
        values: dict[str, Any] = {
            "jwks_url": f"{self._base_url()}{_JWKS_PATH}",
            "issuer": self.issuer,
            "audience": self.audience,
        }
        return AuthSettings(**(values | overrides))

    def remote_settings(self, **overrides: Any) -> AuthSettings:
        """`AuthSettings` in remote mode against its verify endpoint (while served).

        Raises:
            RuntimeError: it is not being served.
        """
        values: dict[str, Any] = {
            "mode": "remote",
            "verify_url": f"{self._base_url()}{_VERIFY_PATH}",
            "issuer": self.issuer,
            "audience": self.audience,
        }
        return AuthSettings(**(values | overrides))

    @contextlib.contextmanager
    def serve(self, **config: Any) -> Iterator[LiveServer]:
        """Serve it on a loopback port (a `LiveServer`), with `url` set meanwhile.

        Args:
            **config: more `LiveServer` options.
        """
        with LiveServer(self.app, lifespan="off", **config) as server:
            self.url = server.url
            try:
                yield server
            finally:
                self.url = None

    # -- endpoints ---------------------------------------------------------------------------
    async def _misbehave(self, mode: str) -> Response | None:
        if mode == "fail":
            return JSONResponse({"detail": "boom"}, status_code=500)
        if mode == "hang":
            await anyio.sleep(self.hang_seconds)
            return JSONResponse({"detail": "late"}, status_code=500)
        if mode == "garbage":
            return JSONResponse({"unexpected": True})
        if mode == "html":
            return HTMLResponse("<html>maintenance</html>")
        return None

    async def _jwks_endpoint(self, _request: Request) -> Response:
        self.calls["jwks"] += 1
        return await self._misbehave(self.jwks_mode) or JSONResponse(self.jwks())

    async def _health_endpoint(self, _request: Request) -> Response:
        self.calls["health"] += 1
        return await self._misbehave(self.mode) or JSONResponse({"status": "ok"})

    async def _verify_endpoint(self, request: Request) -> Response:
        self.calls["verify"] += 1
        self.seen_headers.append(dict(request.headers))
        if self.verify_delay:
            await anyio.sleep(self.verify_delay)
        failure = await self._misbehave(self.mode)
        if failure is not None:
            return failure
        try:
            token = VerifyRequest.model_validate_json(await request.body()).token
        except PydanticValidationError:
            return JSONResponse({"detail": "not a VerifyRequest"}, status_code=422)
        return JSONResponse(self._verdict(token).model_dump(mode="json"))

    def _verdict(self, token: str) -> VerifyResponse:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self.keys.private_key(str(kid)).public_key()
            claims = jwt.decode(
                token, key, algorithms=["RS256"], audience=self.audience, issuer=self.issuer
            )
        except jwt.ExpiredSignatureError:
            return VerifyResponse(valid=False, reason="expired")
        except (jwt.PyJWTError, KeyError):
            return VerifyResponse(valid=False, reason="invalid_signature")
        if claims.get("type") != "access":
            return VerifyResponse(valid=False, reason="wrong_type")
        try:
            if claims["token_version"] < self.current_versions.get(claims["sub"], 0):
                return VerifyResponse(valid=False, reason="revoked")
            identity = Identity.model_validate(
                {
                    "user_id": "someone-else" if self.mode == "other_subject" else claims["sub"],
                    "username": claims["username"],
                    "email": claims.get("email"),
                    "role": claims["role"],
                    "permissions": claims.get("permissions", []),
                    "token_version": claims["token_version"],
                    "token_id": claims["jti"],
                    "expires_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(claims["exp"])),
                }
            )
        except (KeyError, TypeError, PydanticValidationError):
            return VerifyResponse(valid=False, reason="malformed")
        return VerifyResponse(valid=True, identity=identity)
