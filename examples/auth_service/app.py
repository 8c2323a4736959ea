"""The auth service: login, refresh, revocation, token verification and the JWKS.

    POST /auth/login                 LoginRequest -> TokenResponse
    POST /auth/refresh               RefreshRequest -> TokenResponse (the refresh token rotates)
    POST /auth/token                 ClientCredentialsRequest -> TokenResponse (services, RFC 6749 4.4)
    POST /auth/verify                VerifyRequest -> VerifyResponse (for other services)
    GET  /.well-known/jwks.json      JsonWebKeySet (for local verification)
    GET  /auth/me                    Identity of the caller
    POST /auth/revoke                revoke every token of the caller
    POST /auth/users/{user_id}/revoke   admin: revoke every token of a user
    POST /auth/service-accounts/{client_id}/secrets   admin: rotate a service's secret
    GET  /auth/users/{user_id}       the targets service (scope users:read): a user's summary

Rate limits (settings): `default_limit` service-wide per principal or client address,
`login_limit` and `token_limit` per client address, `verify_limit` per caller: per service
when the verify call carries the service's own token, which is how replicas of one service
share one budget instead of one per address. Every route documents its 429.

Run: `uvicorn examples.auth_service.app:create_app --factory` (development:
`AUTH_SERVICE_ENVIRONMENT=development`, which generates a signing key in `.demo/` and prints
the seeded users' passwords once).
"""

from __future__ import annotations

import base64
import binascii
import sys
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl, unquote_plus

import orjson
from argon2 import PasswordHasher
from fastapi import Depends, FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from opsconductor_contracts import (
    ClientCredentialsRequest,
    Identity,
    JsonWebKeySet,
    LoginRequest,
    RefreshRequest,
    ServiceSecretResponse,
    StandardResponse,
    TokenResponse,
    TokenType,
    UserSummary,
    VerifyRequest,
    VerifyResponse,
)
from opsconductor_shared import (
    AuthenticationError,
    BadRequestError,
    CurrentUser,
    NotFoundError,
    create_service_app,
    error_responses,
    get_logger,
    get_request_id,
    install_auth,
    require_admin,
)
from opsconductor_shared.auth import identity_from_claims, require_scope, require_service
from opsconductor_shared.ratelimit import RateLimitSettings, install_rate_limiting, rate_limit
from pydantic import ValidationError

from .keys import load_or_create_key
from .services import ServiceAccountStore
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
    services = ServiceAccountStore(_hasher(settings))
    for client_id, account in settings.service_accounts.items():
        services.add(
            client_id,
            [secret.get_secret_value() for secret in account.secrets],
            account.role,
            account.scopes,
        )
    issuer = TokenIssuer(key, users, settings, services)

    app = create_service_app(
        SERVICE_NAME, VERSION, settings, description="Issues and verifies OpsConductor tokens."
    )
    install_auth(app, verifier=IssuerTokenVerifier(issuer))
    limits = RateLimitSettings(
        default_limit=settings.default_limit, service_limits=settings.service_limits
    )
    if settings.verify_exempt:
        limits = limits.model_copy(update={"exempt_paths": [*limits.exempt_paths, "/auth/verify"]})
    install_rate_limiting(app, limits)
    verify_dependencies = (
        [Depends(rate_limit(settings.verify_limit, name="verify"))] if settings.verify_limit else []
    )
    app.state.users = users
    app.state.services = services
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

    _add_service_account_routes(app, services, issuer, settings)

    @app.post(
        "/auth/verify",
        response_model=VerifyResponse,
        dependencies=verify_dependencies,
        openapi_extra=PUBLIC,
        tags=["auth"],
    )
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

    _add_user_lookup_route(app, users)

    return app


def _add_user_lookup_route(app: FastAPI, users: UserStore) -> None:
    # An admin lookup for services only: the targets service resolves who created a target.
    @app.get(
        "/auth/users/{user_id}",
        response_model=UserSummary,
        dependencies=[
            Depends(require_service("targets-service")),
            Depends(require_scope("users:read")),
        ],
        tags=["auth"],
    )
    async def get_user(user_id: Annotated[str, Path(max_length=64)]) -> UserSummary:
        user = users.get(user_id)
        if user is None:
            raise NotFoundError("User", user_id)
        return UserSummary(
            user_id=user.id, username=user.username, role=user.role, active=user.active
        )


def _add_service_account_routes(
    app: FastAPI,
    services: ServiceAccountStore,
    issuer: TokenIssuer,
    settings: AuthServiceSettings,
) -> None:
    """The client credentials grant and secret rotation."""

    # Guessing secrets must stay slow too; a service needs one token per expiry, not more.
    @app.post(
        "/auth/token",
        response_model=TokenResponse,
        responses=error_responses(400, 401, 422),
        dependencies=[Depends(rate_limit(settings.token_limit, name="token"))],
        openapi_extra={**PUBLIC, "requestBody": _TOKEN_REQUEST_BODY},
        tags=["auth"],
    )
    async def issue_service_token(
        grant: Annotated[ClientCredentialsRequest, Depends(_client_credentials)],
    ) -> TokenResponse:
        account = await services.authenticate(
            grant.client_id, grant.client_secret.get_secret_value()
        )
        if account is None:
            log.info("service_token_refused", client_id=grant.client_id)
            raise AuthenticationError(
                "The client id or secret is wrong.",
                error="invalid_client",
                headers={"WWW-Authenticate": 'Basic realm="opsconductor-auth"'},
            )
        asked = grant.scope.split() if grant.scope else list(account.scopes)
        unknown = sorted(set(asked) - set(account.scopes))
        if unknown:
            raise BadRequestError(
                "A scope asked for is not granted to this service account.",
                metadata={"error": "invalid_scope", "unknown_scopes": len(unknown)},
            )
        log.info("service_token", client_id=account.client_id, scopes=asked)
        return issuer.service_token_response(account, asked)

    @app.post(
        "/auth/service-accounts/{client_id}/secrets",
        response_model=ServiceSecretResponse,
        status_code=201,
        dependencies=[Depends(require_admin)],
        tags=["auth"],
    )
    async def rotate_service_secret(
        client_id: Annotated[str, Path(max_length=128)],
    ) -> ServiceSecretResponse:
        rotated = services.rotate(client_id, overlap=settings.secret_overlap)
        if rotated is None:
            raise NotFoundError("Service account", client_id)
        secret, previous_expires = rotated
        log.info("service_secret_rotated", client_id=client_id)
        return ServiceSecretResponse(
            client_id=client_id,
            client_secret=secret,
            previous_expires_at=(
                datetime.fromtimestamp(previous_expires, UTC) if previous_expires else None
            ),
        )

    build = app.openapi

    def openapi() -> dict[str, Any]:
        document = build()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas.setdefault(
            "ClientCredentialsRequest",
            ClientCredentialsRequest.model_json_schema(ref_template="#/components/schemas/{model}"),
        )
        return document

    app.openapi = openapi  # type: ignore[method-assign]


_CREDENTIALS_SCHEMA = {"$ref": "#/components/schemas/ClientCredentialsRequest"}
_TOKEN_REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "description": (
        "The client credentials grant, as a form (RFC 6749) or as JSON; the client id and "
        "secret may come in an `Authorization: Basic` header instead (RFC 6749 section 2.3.1)."
    ),
    "content": {
        "application/x-www-form-urlencoded": {"schema": _CREDENTIALS_SCHEMA},
        "application/json": {"schema": _CREDENTIALS_SCHEMA},
    },
}
_FORM = "application/x-www-form-urlencoded"


def _basic_credentials(request: Request) -> dict[str, str]:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return {}
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise AuthenticationError(
            "The Basic credentials are not base64 of client_id:secret.", error="invalid_client"
        ) from exc
    client_id, separator, secret = decoded.partition(":")
    if not separator:
        raise AuthenticationError(
            "The Basic credentials are not base64 of client_id:secret.", error="invalid_client"
        )
    return {"client_id": unquote_plus(client_id), "client_secret": unquote_plus(secret)}


async def _client_credentials(request: Request) -> ClientCredentialsRequest:
    """The token request, from a form or a JSON body, and a Basic header when one is sent."""
    body = await request.body()
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    fields: Any
    try:
        if media_type == _FORM:
            fields = dict(parse_qsl(body.decode(), keep_blank_values=True, max_num_fields=16))
        else:
            fields = orjson.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequestError(
            "The token request must be a form (application/x-www-form-urlencoded) or JSON."
        ) from exc
    if isinstance(fields, dict):
        fields = {**fields, **_basic_credentials(request)}
    try:
        return ClientCredentialsRequest.model_validate(fields)
    except ValidationError as exc:
        problems = [
            {**error, "loc": ("body", *error["loc"])} for error in exc.errors(include_input=False)
        ]
        raise RequestValidationError(problems, body=None) from exc


def _done(message: str) -> StandardResponse:
    return StandardResponse(
        success=True,
        message=message,
        data=None,
        request_id=get_request_id() or "",
        timestamp=datetime.now(UTC),
    )
