"""Authentication: verify the auth service's tokens, and FastAPI dependencies that use them.

settings = AuthSettings.for_service("targets")      # TARGETS_AUTH__MODE=local, ...
install_auth(app, settings)

@app.get("/targets")
async def list_targets(user: CurrentUser): ...

@app.delete("/targets/{id}", dependencies=[Depends(require_admin)])
async def delete_target(id: int): ...
"""

from ._cache import TokenCache, token_digest
from ._dependencies import (
    BEARER_SCHEME_NAME,
    ROLE_RANKS,
    CurrentUser,
    OptionalUser,
    VerifiedClaims,
    bearer_scheme,
    get_current_user,
    get_optional_user,
    get_verified_token,
    get_verifier,
    require_admin,
    require_permissions,
    require_role,
    verify_token_dependency,
)
from ._install import create_verifier, install_auth
from ._jwks import MAX_JWKS_KEYS, JWKSKeyStore, SigningKey, parse_jwks
from ._local import REQUIRED_CLAIMS, LocalTokenVerifier
from ._middleware import (
    VERIFICATION_STATE_KEY,
    BearerIdentityMiddleware,
    bearer_token,
    recorded_verification,
)
from ._remote import RemoteTokenVerifier
from ._settings import (
    ASYMMETRIC_ALGORITHMS,
    DEFAULT_AUDIENCE,
    DEFAULT_AUTH_TIMEOUT,
    DEFAULT_CACHE_MAX_ENTRIES,
    DEFAULT_CACHE_TTL,
    DEFAULT_ISSUER,
    DEFAULT_JWKS_REFRESH_INTERVAL,
    DEFAULT_JWKS_UNKNOWN_KID_COOLDOWN,
    DEFAULT_LEEWAY,
    DEFAULT_MAX_TOKEN_BYTES,
    DEFAULT_NEGATIVE_CACHE_TTL,
    AuthSettings,
)
from ._verifier import (
    INVALID_TOKEN_DETAIL,
    Rejection,
    TokenRejectedError,
    TokenVerifier,
    VerifiedToken,
    auth_unavailable,
    claims_from_payload,
    identity_from_claims,
    unverified_token,
)

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "AuthSettings",
    "BEARER_SCHEME_NAME",
    "BearerIdentityMiddleware",
    "CurrentUser",
    "DEFAULT_AUDIENCE",
    "DEFAULT_AUTH_TIMEOUT",
    "DEFAULT_CACHE_MAX_ENTRIES",
    "DEFAULT_CACHE_TTL",
    "DEFAULT_ISSUER",
    "DEFAULT_JWKS_REFRESH_INTERVAL",
    "DEFAULT_JWKS_UNKNOWN_KID_COOLDOWN",
    "DEFAULT_LEEWAY",
    "DEFAULT_MAX_TOKEN_BYTES",
    "DEFAULT_NEGATIVE_CACHE_TTL",
    "INVALID_TOKEN_DETAIL",
    "JWKSKeyStore",
    "LocalTokenVerifier",
    "MAX_JWKS_KEYS",
    "OptionalUser",
    "REQUIRED_CLAIMS",
    "ROLE_RANKS",
    "Rejection",
    "RemoteTokenVerifier",
    "SigningKey",
    "TokenCache",
    "TokenRejectedError",
    "TokenVerifier",
    "VERIFICATION_STATE_KEY",
    "VerifiedClaims",
    "VerifiedToken",
    "auth_unavailable",
    "bearer_scheme",
    "bearer_token",
    "claims_from_payload",
    "create_verifier",
    "get_current_user",
    "get_optional_user",
    "get_verified_token",
    "get_verifier",
    "identity_from_claims",
    "install_auth",
    "parse_jwks",
    "recorded_verification",
    "require_admin",
    "require_permissions",
    "require_role",
    "token_digest",
    "unverified_token",
    "verify_token_dependency",
]
