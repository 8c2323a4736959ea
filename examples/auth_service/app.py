"""The auth service: login, refresh, revocation, token verification and the JWKS.

    POST /auth/login                 LoginRequest -> TokenResponse
    POST /auth/refresh               RefreshRequest -> TokenResponse (the refresh token rotates)
    POST /auth/verify                VerifyRequest -> VerifyResponse (for other services)
    GET  /.well-known/jwks.json      JsonWebKeySet (for local verification)
    GET  /auth/me                    Identity of the caller
    POST /auth/revoke                revoke every token of the caller
    POST /auth/users/{user_id}/revoke   admin: revoke every token of a user

Run: `uvicorn examples.auth_service.app:create_app --factory` (development:
`AUTH_SERVICE_ENVIRONMENT=development`, which generates a signing key in `.demo/` and prints
the seeded users' passwords once).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

from argon2 import PasswordHasher
from fastapi import Depends, FastAPI, Path
from fastapi.responses import JSONResponse
from opsconductor_contracts import (
    Identity,
    JsonWebKeySet,
    LoginRequest,
    RefreshRequest,
    StandardResponse,
    TokenResponse,
    TokenType,
    VerifyRequest,
    VerifyResponse,
)
from opsconductor_shared import (
    AuthenticationError,
    CurrentUser,
    NotFoundError,
    create_service_app,
    error_responses,
    get_logger,
    get_request_id,
    install_auth,
    require_admin,
)
from opsconductor_shared.auth import identity_from_claims
from opsconductor_shared.ratelimit import RateLimitSettings, install_rate_limiting, rate_limit

from .keys import load_or_create_key
from .settings import SERVICE_NAME, AuthServiceSettings
from .tokens import TokenError, TokenIssuer
from .users import UserStore
from .verifier import IssuerTokenVerifier

VERSION = "1.0.0"
PUBLIC = {"x-public": True}
log = get_logger("auth_service")


def _hasher(settings: AuthServiceSettings) -> PasswordHasher:
    return PasswordHasher(
        time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib, parallelism=1
    )


def create_app(settings: AuthServiceSettings | None = None) -> FastAPI:
    """The auth service app (see the module docstring)."""
    settings = settings or AuthServiceSettings.for_service(SERVICE_NAME)
    key = load_or_create_key(
        pem=settings.signing_key.get_secret_value() if settings.signing_key else None,
        path=settings.signing_key_file,
        kid=settings.key_id,
        create=settings.development,
    )
    users = UserStore(_hasher(settings))
    generated = users.seed(
        {name: secret.get_secret_value() for name, secret in settings.seed_passwords.items()}
    )
    if generated:
        # Printed, not logged: the log pipeline would (rightly) mask them.
        lines = "\n".join(f"    {name}: {password}" for name, password in generated.items())
        print(
            f"auth-service (development): seeded users and their generated passwords:\n{lines}",
            file=sys.stderr,
            flush=True,
        )
    issuer = TokenIssuer(key, users, settings)

    app = create_service_app(
        SERVICE_NAME, VERSION, settings, description="Issues and verifies OpsConductor tokens."
    )
    install_auth(app, verifier=IssuerTokenVerifier(issuer))
    install_rate_limiting(app, RateLimitSettings(default_limit="600/minute"))
    app.state.users = users
    app.state.issuer = issuer

    # Guessing passwords must stay slow: a few attempts a minute per client address.
    @app.post(
        "/auth/login",
        response_model=TokenResponse,
        responses=error_responses(401),
        dependencies=[Depends(rate_limit(settings.login_limit, name="login"))],
        openapi_extra=PUBLIC,
        tags=["auth"],
    )
    async def login(credentials: LoginRequest) -> TokenResponse:
        user = await users.authenticate(
            credentials.username, credentials.password.get_secret_value()
        )
        if user is None:
            log.info("login_failed", username=credentials.username)
            raise AuthenticationError("The username or password is wrong.", error="invalid_grant")
        log.info("login", user_id=user.id, username=user.username)
        return issuer.token_response(user)

    @app.post(
        "/auth/refresh",
        response_model=TokenResponse,
        responses=error_responses(401),
        openapi_extra=PUBLIC,
        tags=["auth"],
    )
    async def refresh(body: RefreshRequest) -> TokenResponse:
        try:
            user = issuer.redeem_refresh_token(body.refresh_token)
        except TokenError as exc:
            log.info("refresh_refused", reason=exc.reason)
            raise AuthenticationError(
                "The refresh token is invalid, expired or revoked.", error="invalid_grant"
            ) from exc
        return issuer.token_response(user)

    @app.post("/auth/verify", response_model=VerifyResponse, openapi_extra=PUBLIC, tags=["auth"])
    async def verify_token(body: VerifyRequest) -> VerifyResponse:
        try:
            claims, _ = issuer.check(body.token, expected=TokenType.access)
        except TokenError as exc:
            return VerifyResponse(valid=False, identity=None, reason=exc.reason)
        return VerifyResponse(valid=True, identity=identity_from_claims(claims), reason=None)

    @app.get(
        "/.well-known/jwks.json", response_model=JsonWebKeySet, openapi_extra=PUBLIC, tags=["auth"]
    )
    async def get_jwks() -> JSONResponse:
        body = key.jwks().model_dump(mode="json", exclude_none=True)
        return JSONResponse(
            body, headers={"Cache-Control": f"public, max-age={settings.jwks_max_age}"}
        )

    @app.get("/auth/me", response_model=Identity, tags=["auth"])
    async def get_me(user: CurrentUser) -> Identity:
        return user

    @app.post("/auth/revoke", response_model=StandardResponse, tags=["auth"])
    async def revoke_own_tokens(user: CurrentUser) -> StandardResponse:
        users.revoke(user.user_id)
        return _done("Every token issued to you so far is revoked.")

    @app.post(
        "/auth/users/{user_id}/revoke",
        response_model=StandardResponse,
        dependencies=[Depends(require_admin)],
        tags=["auth"],
    )
    async def revoke_user_tokens(
        user_id: Annotated[str, Path(max_length=64)],
    ) -> StandardResponse:
        if users.revoke(user_id) is None:
            raise NotFoundError("User", user_id)
        log.info("tokens_revoked", revoked_user=user_id)
        return _done(f"Every token issued to user {user_id} so far is revoked.")

    return app


def _done(message: str) -> StandardResponse:
    return StandardResponse(
        success=True,
        message=message,
        data=None,
        request_id=get_request_id() or "",
        timestamp=datetime.now(UTC),
    )
