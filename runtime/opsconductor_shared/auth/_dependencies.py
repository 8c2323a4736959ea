"""FastAPI dependencies: who is calling, and may they?

    get_verified_token          the verified token (claims and identity); 401 or 503 otherwise:
                                the `BearerAuth` scheme itself (`BearerVerification`)
    ├── verify_token_dependency    the verified `TokenClaims`
    ├── get_current_user           the verified `Identity`
    │   ├── require_role(role)     admin > operator > viewer; 403 below the role
    │   ├── require_admin          require_role(Role.admin)
    │   └── require_permissions(...)   every named permission (admins hold them all)
    │   ├── require_service(...)   a service (client credentials), optionally one of these
    │   ├── require_user           a user, not a service
    │   └── require_scope(...)     every named scope (a service's scopes, a user's permissions)
    get_optional_verified_token the same, or None when no bearer token was sent
    └── get_optional_user       the `Identity`, or None when no bearer token was sent (a token
                                that was sent must still verify: a bad one is a 401)

A route accepts users and services alike unless it says otherwise: `CurrentUser` and the role
dependencies admit both (a service account has a role too); `require_service` admits only
services, `require_user` only users. The log context names which (`principal_type`).

All of them rest on the `BearerAuth` HTTP bearer scheme, so FastAPI puts it in the service's
OpenAPI document and `install_openapi` documents the 401 and 403 of every secured operation;
each is marked with the errors it raises (`raises_errors`: 401 and 503 for the token, 403 for
a role or permission), so every route using one documents them.
A verified request's user id is bound to its log context, its identity is on
`request.state.identity`, and its token is what `ServiceClient` forwards when asked to.
There is no default user: a request without a verified token never gets an identity.
FastAPI caches a dependency per request, so combining them verifies the token once, and when
`BearerIdentityMiddleware` already verified it (see `install_auth`), they reuse its outcome.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.security import HTTPBearer
from opsconductor_contracts import Identity, PrincipalType, Role, TokenClaims
from starlette.requests import Request

from .._errors import AuthenticationError, PermissionDeniedError
from .._operations import raises_errors
from ._middleware import bearer_token, recorded_verification
from ._verifier import TokenVerifier, VerifiedToken

__all__ = [
    "BEARER_SCHEME_NAME",
    "BearerVerification",
    "OptionalBearerVerification",
    "CurrentUser",
    "OptionalUser",
    "ROLE_RANKS",
    "VerifiedClaims",
    "get_current_user",
    "get_optional_user",
    "get_optional_verified_token",
    "get_verified_token",
    "get_verifier",
    "require_admin",
    "require_permissions",
    "require_role",
    "require_scope",
    "require_service",
    "require_user",
    "verify_token_dependency",
]

BEARER_SCHEME_NAME = "BearerAuth"
ROLE_RANKS = {Role.viewer: 0, Role.operator: 1, Role.admin: 2}
_MISSING_DETAIL = "Authentication is required: send an access token as `Authorization: Bearer`."


class BearerVerification(HTTPBearer):
    """The bearer-token dependency: FastAPI's `HTTPBearer` scheme (so FastAPI documents the
    `BearerAuth` scheme and each operation's security requirement), whose call verifies the
    token instead of merely reading it. It is the security scheme and the verification in one
    dependency, not a scheme nested under a verifying function: FastAPI resolves every
    dependency level per request, and a security scheme's level is the dearest.

    It reads the token the way `BearerIdentityMiddleware` does (`bearer_token`) and reuses
    what the middleware recorded, so a token is verified once per request.
    `get_verified_token` is the instance to depend on; `OptionalBearerVerification`
    (`get_optional_verified_token`) answers None when no token was sent.
    """

    def __init__(self) -> None:
        super().__init__(
            auto_error=False,
            scheme_name=BEARER_SCHEME_NAME,
            bearerFormat="JWT",
            description="An access token issued by the OpsConductor auth service.",
        )

    async def __call__(self, request: Request) -> VerifiedToken:  # type: ignore[override]
        """The request's verified bearer token.

        Raises:
            AuthenticationError: 401, no bearer token, or an invalid one.
            ServiceUnavailableError: 503, the token cannot be verified now.
        """
        token = bearer_token(request.scope)
        if token is None:
            raise AuthenticationError(
                _MISSING_DETAIL,
                headers={"WWW-Authenticate": "Bearer"},
                metadata={"reason": "missing"},
            )
        return await _verified(request, token)


class OptionalBearerVerification(BearerVerification):
    """`BearerVerification` answering None when the request carries no bearer token (a token
    that was sent must still verify)."""

    async def __call__(self, request: Request) -> VerifiedToken | None:  # type: ignore[override]
        """The request's verified bearer token, or None when it sent none.

        Raises:
            AuthenticationError: 401, the token sent is invalid.
            ServiceUnavailableError: 503, the token cannot be verified now.
        """
        token = bearer_token(request.scope)
        return None if token is None else await _verified(request, token)


async def _verified(request: Request, token: str) -> VerifiedToken:
    scope = request.scope
    recorded = recorded_verification(scope, token)
    if isinstance(recorded, Exception):
        raise recorded
    if recorded is not None:
        # `BearerIdentityMiddleware` verified it and already set the identity, the log
        # context and the caller token.
        return recorded
    verified = await get_verifier(request.app).verify(token)
    verified.bind(scope, token)
    return verified


def get_verifier(app: FastAPI) -> TokenVerifier:
    """The `TokenVerifier` that `install_auth` put on `app`.

    Raises:
        RuntimeError: `install_auth` was not called for this app.
    """
    verifier = getattr(app.state, "token_verifier", None)
    if not isinstance(verifier, TokenVerifier):
        raise RuntimeError("install_auth(app) was not called: no request can be authenticated")
    return verifier


# The request's verified bearer token: 401 without one or with an invalid one, 503 when it
# cannot be verified now. `Depends(get_verified_token)`, or call `await
# get_verified_token(request)`.
get_verified_token = raises_errors(401, 503)(BearerVerification())
# The same, or None when the request carries no bearer token.
get_optional_verified_token = raises_errors(401, 503)(OptionalBearerVerification())


async def verify_token_dependency(
    verified: Annotated[VerifiedToken, Depends(get_verified_token)],
) -> TokenClaims:
    """The verified token's claims (401 or 503 otherwise)."""
    return verified.claims


async def get_current_user(
    verified: Annotated[VerifiedToken, Depends(get_verified_token)],
) -> Identity:
    """The verified caller's identity (401 or 503 otherwise)."""
    return verified.identity


async def get_optional_user(
    verified: Annotated[VerifiedToken | None, Depends(get_optional_verified_token)],
) -> Identity | None:
    """The verified caller's identity, or None when the request carries no bearer token.

    Raises:
        AuthenticationError: 401, a bearer token was sent and is invalid.
        ServiceUnavailableError: 503, a bearer token was sent and cannot be verified now.
    """
    return None if verified is None else verified.identity


def require_role(role: Role | str) -> Callable[..., Awaitable[Identity]]:
    """A dependency admitting callers with `role` or a higher one (admin > operator > viewer).

    Raises:
        ValueError: `role` is not a role (at definition time).
    """
    required = Role(role)
    minimum = ROLE_RANKS[required]

    @raises_errors(403)
    async def dependency(identity: Annotated[Identity, Depends(get_current_user)]) -> Identity:
        if ROLE_RANKS[identity.role] < minimum:
            raise PermissionDeniedError(
                f"This requires the {required.value} role or a higher one.",
                metadata={"role": identity.role.value, "required_role": required.value},
            )
        return identity

    dependency.__name__ = f"require_role_{required.value}"
    dependency.__doc__ = f"Admits callers with the {required.value} role or a higher one."
    return dependency


require_admin = require_role(Role.admin)


def require_permissions(
    *permissions: str, allow_admin: bool = True
) -> Callable[..., Awaitable[Identity]]:
    """A dependency admitting callers that hold every one of `permissions`.

    Args:
        permissions: the permissions required, such as `targets:write`.
        allow_admin: admins pass without holding them explicitly.

    Raises:
        ValueError: no permission is named (at definition time).
    """
    if not permissions or not all(permissions):
        raise ValueError("require_permissions needs at least one non-empty permission")
    required = frozenset(permissions)

    @raises_errors(403)
    async def dependency(identity: Annotated[Identity, Depends(get_current_user)]) -> Identity:
        if allow_admin and identity.role is Role.admin:
            return identity
        missing = required.difference(identity.permissions)
        if missing:
            raise PermissionDeniedError(
                "You do not have the permissions this requires.",
                metadata={"missing_permissions": sorted(missing)},
            )
        return identity

    dependency.__name__ = "require_permissions_" + "_".join(sorted(required))
    return dependency


def require_service(*names: str) -> Callable[..., Awaitable[Identity]]:
    """A dependency admitting only services (client credentials tokens), and of those only
    the named service accounts when any are named: `require_service("scheduler")`.

    Raises:
        ValueError: a name is empty (at definition time).
    """
    if not all(names):
        raise ValueError("require_service needs non-empty service account names")
    allowed = frozenset(names)

    @raises_errors(403)
    async def dependency(identity: Annotated[Identity, Depends(get_current_user)]) -> Identity:
        if identity.principal_type is not PrincipalType.service:
            raise PermissionDeniedError(
                "Only services may call this.", metadata={"principal_type": "user"}
            )
        if allowed and identity.user_id not in allowed:
            raise PermissionDeniedError(
                "This service may not call this.",
                metadata={"service": identity.user_id, "allowed_services": sorted(allowed)},
            )
        return identity

    dependency.__name__ = (
        "require_service_" + "_".join(sorted(allowed)) if allowed else "require_service"
    )
    return dependency


@raises_errors(403)
async def require_user(identity: Annotated[Identity, Depends(get_current_user)]) -> Identity:
    """Admits users only, not services."""
    if identity.principal_type is not PrincipalType.user:
        raise PermissionDeniedError(
            "Only users may call this.", metadata={"principal_type": "service"}
        )
    return identity


def require_scope(*scopes: str) -> Callable[..., Awaitable[Identity]]:
    """A dependency admitting callers that hold every one of `scopes`: a service's granted
    scopes, or a user's permissions (admins hold them all).

    Raises:
        ValueError: no scope is named (at definition time).
    """
    if not scopes or not all(scopes):
        raise ValueError("require_scope needs at least one non-empty scope")
    required = frozenset(scopes)

    @raises_errors(403)
    async def dependency(identity: Annotated[Identity, Depends(get_current_user)]) -> Identity:
        if identity.principal_type is PrincipalType.service:
            held = frozenset(identity.scopes)
        elif identity.role is Role.admin:
            return identity
        else:
            held = frozenset(identity.permissions)
        missing = required - held
        if missing:
            raise PermissionDeniedError(
                "You do not have the scopes this requires.",
                metadata={"missing_scopes": sorted(missing)},
            )
        return identity

    dependency.__name__ = "require_scope_" + "_".join(sorted(required))
    return dependency


VerifiedClaims = Annotated[TokenClaims, Depends(verify_token_dependency)]
CurrentUser = Annotated[Identity, Depends(get_current_user)]
OptionalUser = Annotated[Identity | None, Depends(get_optional_user)]
