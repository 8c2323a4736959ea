"""`LocalTokenVerifier`: verify JWTs in-process with PyJWT (RFC 8725 rules).

Before any cryptography: the size limit, the compact shape (an unsigned `alg: none` token has
an empty signature and fails here), and the header's `alg`, which must be on the allow-list
*and* be the one algorithm of the key it names: the algorithm always comes from our side,
so an HS256 token "signed" with an RSA public key never reaches an HMAC. (With an HS256
secret there is one key and one algorithm, so PyJWT, given only HS256, refuses every other
`alg` itself, and the header is not read twice; the shape is still checked first.) Then PyJWT verifies
the signature and `exp` (required), `nbf`, `iat`, `iss` and `aud` with the configured leeway,
and the claims must have the contract's shape and be an access token's.

Local mode cannot see revocations (`token_version`): only the auth service knows the current
version. Services that must honour revocation at once use remote mode.
"""

from __future__ import annotations

from typing import Any

import httpx
import jwt

from ..client import RetryPolicy, ServiceClient
from ._jwks import JWKSKeyStore
from ._settings import AuthSettings
from ._verifier import (
    Rejection,
    TokenRejectedError,
    TokenVerifier,
    VerifiedToken,
    check_compact_shape,
    claims_from_payload,
    identity_from_claims,
    unverified_header,
)

__all__ = [
    "LocalTokenVerifier",
    "REQUIRED_CLAIMS",
]

REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud", "sub", "jti")
_EXPIRED = "The access token has expired."

# PyJWT's errors, most specific first, as (class, reason, detail).
_PYJWT_REJECTIONS: tuple[tuple[type[Exception], str, str | None], ...] = (
    (jwt.ExpiredSignatureError, "expired", _EXPIRED),
    (jwt.ImmatureSignatureError, "not_yet_valid", None),
    (jwt.InvalidAudienceError, "wrong_audience", None),
    (jwt.InvalidIssuerError, "wrong_issuer", None),
    (jwt.MissingRequiredClaimError, "missing_claim", None),
    (jwt.InvalidSignatureError, "invalid_signature", None),
    (jwt.InvalidAlgorithmError, "algorithm_not_allowed", None),
)


class LocalTokenVerifier(TokenVerifier):
    """Verifies tokens in-process against a JWKS or an HS256 secret (module docstring).

    Args:
        settings: auth settings in local mode.
        client: the client that fetches the JWKS; default: one built from the settings.
        **kwargs: passed to `TokenVerifier` (a test clock).
    """

    def __init__(
        self, settings: AuthSettings, *, client: ServiceClient | None = None, **kwargs: Any
    ) -> None:
        if settings.mode != "local":
            raise ValueError("LocalTokenVerifier needs auth settings in local mode")
        super().__init__(settings, **kwargs)
        self._algorithms = frozenset(settings.allowed_algorithms)
        self._jwt = jwt.PyJWT(options={"require": list(REQUIRED_CLAIMS)})
        self._secret: bytes | None = None
        self.keys: JWKSKeyStore | None = None
        self._owns_client = False
        if settings.hs256_secret is not None:
            self._secret = settings.hs256_secret.get_secret_value().encode()
            return
        jwks_url = str(settings.jwks_url)
        if client is None:
            client = ServiceClient(
                "auth",
                jwks_url,
                timeout=httpx.Timeout(settings.timeout),
                retry=RetryPolicy(attempts=2, deadline=settings.timeout),
                breaker=False,
            )
            self._owns_client = True
        self._client = client
        self.keys = JWKSKeyStore(
            jwks_url,
            client=client,
            algorithms=self._algorithms,
            refresh_interval=settings.jwks_refresh_interval,
            unknown_kid_cooldown=settings.jwks_unknown_kid_cooldown,
        )

    async def start(self) -> None:
        if self.keys is not None:
            await self.keys.start()

    async def aclose(self) -> None:
        if self.keys is not None:
            await self.keys.aclose()
            if self._owns_client:
                await self._client.aclose()

    def readiness_checks(self) -> dict[str, Any]:
        if self.keys is None:
            return {}
        return {"auth-keys": self.keys.health_check}

    async def _verify_uncached(self, token: str, _key: bytes) -> VerifiedToken | Rejection:
        verification_key: jwt.PyJWK | bytes
        if self._secret is not None:
            # One key, one algorithm (the settings allow only HS256 with a secret), so the
            # header need not be read first: PyJWT refuses any other `alg`, `none` included,
            # before the HMAC. The shape is checked here all the same: PyJWT releases before
            # 2.15 decode a padded or junk-laden signature leniently.
            check_compact_shape(token, max_bytes=self._max_bytes)
            verification_key = self._secret
            algorithm = "HS256"
        elif self.keys is not None:
            header = unverified_header(token, max_bytes=self._max_bytes)
            named = header.get("alg")
            if not isinstance(named, str) or named not in self._algorithms:
                raise TokenRejectedError("algorithm_not_allowed")
            algorithm = named
            kid = header.get("kid")
            if not isinstance(kid, str) or not kid:
                raise TokenRejectedError("missing_kid")
            signing_key = await self.keys.get(kid)
            if algorithm != signing_key.algorithm:
                raise TokenRejectedError("algorithm_mismatch")
            verification_key = signing_key.jwk
        else:  # pragma: no cover - the settings guarantee a JWKS or a secret
            raise RuntimeError("the local verifier has neither a JWKS nor a secret")
        try:
            payload = self._jwt.decode(
                token,
                verification_key,
                algorithms=[algorithm],
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                leeway=self.settings.leeway,
            )
        except jwt.PyJWTError as exc:
            for error_class, reason, detail in _PYJWT_REJECTIONS:
                if isinstance(exc, error_class):
                    raise TokenRejectedError(reason, detail or Rejection(reason).detail) from exc
            raise TokenRejectedError("malformed") from exc
        except (ValueError, TypeError, KeyError) as exc:  # odd header values PyJWT trips over
            raise TokenRejectedError("malformed") from exc
        claims = claims_from_payload(payload)
        return VerifiedToken(claims, identity_from_claims(claims))
