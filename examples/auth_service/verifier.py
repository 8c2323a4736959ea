"""The auth service checks its own access tokens through the runtime's verifier interface, so
its protected routes use the same dependencies as every other service."""

from __future__ import annotations

from opsconductor_contracts import TokenType
from opsconductor_shared.auth import (
    AuthSettings,
    Rejection,
    TokenVerifier,
    VerifiedToken,
    identity_from_claims,
)

from .tokens import TokenError, TokenIssuer


class IssuerTokenVerifier(TokenVerifier):
    """Verifies access tokens with the service's own key and live token versions.

    Nothing is cached: a revocation takes effect on the very next request.
    """

    def __init__(self, issuer: TokenIssuer) -> None:
        settings = AuthSettings(
            mode="local",
            jwks_url="http://127.0.0.1/.well-known/jwks.json",  # its own; never fetched
            issuer=issuer.settings.issuer,
            audience=issuer.settings.audience,
            cache_max_entries=0,
        )
        super().__init__(settings)
        self.issuer = issuer

    async def _verify_uncached(self, token: str, key: bytes) -> VerifiedToken | Rejection:  # noqa: ARG002 - the interface's
        try:
            claims, _ = self.issuer.check(token, expected=TokenType.access)
        except TokenError as exc:
            return Rejection(exc.reason)
        return VerifiedToken(claims=claims, identity=identity_from_claims(claims))
