"""A fake auth service for tests: real tokens, a JWKS, a verify endpoint, and failure modes.

It signs RS256 tokens with keys it publishes in its JWKS, verifies them on
`POST /auth/verify` as the real service would (including `token_version` revocation),
counts every call by endpoint, and misbehaves on demand: `mode` "fail" answers 500,
"hang" sleeps `hang_seconds` before answering, "garbage" answers 200 with a body that is
not a `VerifyResponse`, "html" answers an HTML page, "other_subject" vouches for someone
else. `verify_delay` slows verification down so that concurrent requests overlap.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

ISSUER = "opsconductor-auth"
AUDIENCE = "opsconductor"
HS256_SECRET = "a-test-secret-that-is-long-enough-for-hs256!"


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def base_claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "7",
        "username": "alice",
        "email": "alice@example.com",
        "role": "operator",
        "permissions": ["targets:write"],
        "token_version": 3,
        "type": "access",
        "iat": now,
        "exp": now + 900,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "jti": str(uuid.uuid4()),
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


class FakeAuthService:
    def __init__(self, keys: dict[str, rsa.RSAPrivateKey]) -> None:
        self.all_keys = keys
        self.reset()
        self.app = Starlette(
            routes=[
                Route("/.well-known/jwks.json", self.jwks_endpoint, methods=["GET"]),
                Route("/auth/verify", self.verify_endpoint, methods=["POST"]),
                Route("/health/live", self.health_endpoint, methods=["GET"]),
            ]
        )

    def reset(self) -> None:
        first = next(iter(self.all_keys))
        self.published = [first]
        self.signing_kid = first
        self.calls: Counter[str] = Counter()
        self.mode = "ok"
        self.jwks_mode = "ok"
        self.verify_delay = 0.0
        self.hang_seconds = 10.0
        self.current_versions: dict[str, int] = {}
        self.seen_headers: list[dict[str, str]] = []

    # -- tokens ---------------------------------------------------------------------------
    def issue(
        self, *, kid: str | None = None, headers: dict[str, Any] | None = None, **claims: Any
    ) -> str:
        kid = kid or self.signing_kid
        return jwt.encode(
            base_claims(**claims),
            self.all_keys[kid],
            algorithm="RS256",
            headers={"kid": kid, **(headers or {})},
        )

    def rotate(self, kid: str, *, keep_old: bool = True) -> None:
        self.published = [*self.published, kid] if keep_old else [kid]
        self.signing_kid = kid

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid in self.published:
            jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.all_keys[kid].public_key(), as_dict=True)
            keys.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return {"keys": keys}

    # -- endpoints ------------------------------------------------------------------------
    async def _misbehave(self, mode: str) -> Response | None:
        if mode == "fail":
            return JSONResponse({"detail": "boom"}, status_code=500)
        if mode == "hang":
            await asyncio.sleep(self.hang_seconds)
            return JSONResponse({"detail": "late"}, status_code=500)
        if mode == "garbage":
            return JSONResponse({"unexpected": True})
        if mode == "html":
            return HTMLResponse("<html>maintenance</html>")
        return None

    async def jwks_endpoint(self, request: Request) -> Response:
        self.calls["jwks"] += 1
        return await self._misbehave(self.jwks_mode) or JSONResponse(self.jwks())

    async def health_endpoint(self, request: Request) -> Response:
        self.calls["health"] += 1
        return await self._misbehave(self.mode) or JSONResponse({"status": "ok"})

    async def verify_endpoint(self, request: Request) -> Response:
        self.calls["verify"] += 1
        self.seen_headers.append(dict(request.headers))
        if self.verify_delay:
            await asyncio.sleep(self.verify_delay)
        failure = await self._misbehave(self.mode)
        if failure is not None:
            return failure
        token = (await request.json())["token"]
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self.all_keys[kid].public_key()
            claims = jwt.decode(token, key, algorithms=["RS256"], audience=AUDIENCE, issuer=ISSUER)
        except jwt.ExpiredSignatureError:
            return JSONResponse({"valid": False, "identity": None, "reason": "expired"})
        except (jwt.PyJWTError, KeyError):
            return JSONResponse({"valid": False, "identity": None, "reason": "invalid_signature"})
        if claims.get("type") != "access":
            return JSONResponse({"valid": False, "identity": None, "reason": "wrong_type"})
        if claims["token_version"] < self.current_versions.get(claims["sub"], 0):
            return JSONResponse({"valid": False, "identity": None, "reason": "revoked"})
        subject = "someone-else" if self.mode == "other_subject" else claims["sub"]
        identity = {
            "user_id": subject,
            "username": claims["username"],
            "email": claims.get("email"),
            "role": claims["role"],
            "permissions": claims.get("permissions", []),
            "token_version": claims["token_version"],
            "token_id": claims["jti"],
            "expires_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(claims["exp"])),
        }
        return JSONResponse({"valid": True, "identity": identity, "reason": None})
