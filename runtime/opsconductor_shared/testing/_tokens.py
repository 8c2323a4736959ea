"""Test keys and test tokens: `KeySet` holds the keys, `TokenFactory` signs tokens with them.

    keys = KeySet()                                   # one RSA key, "test-key-1", and a secret
    tokens = TokenFactory(keys, algorithm="HS256")
    install_auth(app, keys.hs256_settings())          # the app trusts the key set
    client.get("/targets", headers=tokens.auth_headers("operator"))

Tokens carry the claims of the token-claims contract (`opsconductor_contracts.TokenClaims`),
with the issuer and audience `AuthSettings` expects by default, so the runtime's verifiers accept
them as they accept the auth service's. Claims the contract rejects (an unknown role, a missing
`exp`) need `validate=False`: attack tests sign them on purpose, a route test never should.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from opsconductor_contracts import JsonWebKey, JsonWebKeySet, Role, TokenClaims
from pydantic import ValidationError as PydanticValidationError

from ..auth import AuthSettings
from ..auth._settings import DEFAULT_AUDIENCE, DEFAULT_ISSUER

__all__ = [
    "DEFAULT_HS256_SECRET",
    "DEFAULT_KID",
    "DEFAULT_TOKEN_TTL",
    "KeySet",
    "TokenFactory",
    "bearer_headers",
]

DEFAULT_KID = "test-key-1"
DEFAULT_HS256_SECRET = "opsconductor-testing-hs256-secret-not-for-production"  # noqa: S105 - published: it signs test tokens only
DEFAULT_TOKEN_TTL = 900.0
_RSA_KEY_SIZE = 2048

Algorithm = Literal["RS256", "HS256"]


def bearer_headers(token: str) -> dict[str, str]:
    """The `Authorization: Bearer <token>` header, as a dict for an HTTP client."""
    return {"Authorization": f"Bearer {token}"}


class KeySet:
    """RSA signing keys by key id, published as a JWKS, and an HS256 secret, for tests only.

    Each RSA key is generated when first used (that takes tens of milliseconds), so a key set
    that only signs HS256 tokens costs nothing; share one per test session.

    Args:
        kids: the key ids of its RSA keys (more with `add`).
        hs256_secret: the shared secret of HS256 tokens (at least 32 bytes).

    Raises:
        ValueError: no key id, or a secret shorter than 32 bytes.
    """

    def __init__(
        self, kids: Iterable[str] = (DEFAULT_KID,), *, hs256_secret: str = DEFAULT_HS256_SECRET
    ) -> None:
        if len(hs256_secret.encode()) < 32:
            raise ValueError(
                "hs256_secret must be at least 32 bytes long, as AuthSettings requires"
            )
        self.hs256_secret = hs256_secret
        self._kids: list[str] = []
        self._keys: dict[str, rsa.RSAPrivateKey] = {}
        for kid in kids:
            self.add(kid)
        if not self._kids:
            raise ValueError("a KeySet needs at least one key id")

    @property
    def kids(self) -> list[str]:
        """The key ids, in the order they were added (the first is the default signing key)."""
        return list(self._kids)

    def add(self, kid: str) -> None:
        """Add the RSA key `kid`, unless the set already has it.

        Raises:
            ValueError: `kid` is empty.
        """
        if not kid:
            raise ValueError("a key id cannot be empty")
        if kid not in self._kids:
            self._kids.append(kid)

    def private_key(self, kid: str) -> rsa.RSAPrivateKey:
        """The private key `kid` (generated on first use).

        Raises:
            KeyError: the set has no such key; `add` it first.
        """
        if kid not in self._kids:
            raise KeyError(f"no key {kid!r} in this KeySet (it has {self._kids}); add it first")
        key = self._keys.get(kid)
        if key is None:
            key = self._keys[kid] = rsa.generate_private_key(
                public_exponent=65537, key_size=_RSA_KEY_SIZE
            )
        return key

    def public_pem(self, kid: str) -> bytes:
        """The public key `kid` in PEM (SubjectPublicKeyInfo)."""
        return (
            self.private_key(kid)
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    def jwk(self, kid: str) -> JsonWebKey:
        """The public key `kid` as the contract's JSON Web Key (RS256, `use: sig`)."""
        public = jwt.algorithms.RSAAlgorithm.to_jwk(
            self.private_key(kid).public_key(), as_dict=True
        )
        return JsonWebKey.model_validate({**public, "kid": kid, "use": "sig", "alg": "RS256"})

    def jwks(self, kids: Iterable[str] | None = None) -> JsonWebKeySet:
        """The JWKS that publishes `kids` (default: every key)."""
        return JsonWebKeySet(keys=[self.jwk(kid) for kid in (self.kids if kids is None else kids)])

    def hs256_settings(self, **overrides: Any) -> AuthSettings:
        """`AuthSettings` in local mode that trust this set's HS256 secret (no network needed).

        Args:
            **overrides: more `AuthSettings` fields, such as `cache_max_entries=0`.
        """
        return AuthSettings(**({"hs256_secret": self.hs256_secret} | overrides))


class TokenFactory:
    """Signs access tokens for any role, claims and expiry with the keys of a `KeySet`.

    Args:
        keys: the key set.
        algorithm: `RS256` (an RSA key of the set, its kid in the header) or `HS256` (the
            set's secret).
        kid: the RSA key that signs by default; default: the set's first key.
        issuer: the `iss` claim; default: what `AuthSettings` requires by default.
        audience: the `aud` claim; default: what `AuthSettings` requires by default.
        ttl: seconds from `iat` to `exp`.
        defaults: claims that every token of this factory carries unless a call overrides them
            (for example `{"sub": "7", "permissions": ["targets:write"]}`).
        clock: seconds since the epoch (tests that need a fixed time pass their own).

    Raises:
        ValueError: an unsupported algorithm, or a `kid` the set does not have.
    """

    def __init__(
        self,
        keys: KeySet,
        *,
        algorithm: Algorithm = "RS256",
        kid: str | None = None,
        issuer: str = DEFAULT_ISSUER,
        audience: str = DEFAULT_AUDIENCE,
        ttl: float = DEFAULT_TOKEN_TTL,
        defaults: Mapping[str, Any] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if algorithm not in ("RS256", "HS256"):
            raise ValueError(f"unsupported algorithm {algorithm!r}; use RS256 or HS256")
        self.keys = keys
        self.algorithm: Algorithm = algorithm
        self.kid = kid or keys.kids[0]
        if self.kid not in keys.kids:
            raise ValueError(f"no key {self.kid!r} in the KeySet (it has {keys.kids})")
        self.issuer = issuer
        self.audience = audience
        self.ttl = ttl
        self.defaults = dict(defaults or {})
        self._clock = clock

    def claims(
        self, role: Role | str = Role.operator, *, ttl: float | None = None, **overrides: Any
    ) -> dict[str, Any]:
        """The claims of a token for `role`, before signing.

        Args:
            role: the caller's role.
            ttl: seconds until `exp` (negative for a token that has already expired); default:
                the factory's.
            **overrides: claims to set, after the factory's defaults; `None` removes a claim.
        """
        now = int(self._clock())
        claims: dict[str, Any] = {
            "sub": "1",
            "username": f"test-{role}",
            "role": str(role),
            "permissions": [],
            "token_version": 0,
            "type": "access",
            "iat": now,
            "exp": now + int(self.ttl if ttl is None else ttl),
            "iss": self.issuer,
            "aud": self.audience,
            "jti": str(uuid.uuid4()),
        }
        claims.update(self.defaults)
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def issue(
        self,
        role: Role | str = Role.operator,
        *,
        ttl: float | None = None,
        kid: str | None = None,
        headers: Mapping[str, Any] | None = None,
        validate: bool = True,
        **claims: Any,
    ) -> str:
        """A signed token for `role` (see `claims` for `ttl` and the claim overrides).

        Args:
            role: the caller's role.
            ttl: seconds until `exp`.
            kid: the RSA key that signs (RS256 only); default: the factory's.
            headers: more JWT header fields.
            validate: check the claims against the token-claims contract first.
            **claims: claims to set; `None` removes one.

        Raises:
            ValueError: the claims are not the contract's (with `validate`), or `kid` is set
                for an HS256 factory.
        """
        payload = self.claims(role, ttl=ttl, **claims)
        if validate:
            try:
                TokenClaims.model_validate(payload)
            except PydanticValidationError as exc:
                raise ValueError(
                    f"these claims break the token-claims contract ({exc.error_count()} "
                    f"problems: {exc.errors()[0]['loc']} {exc.errors()[0]['msg']}); pass "
                    "validate=False to sign them anyway"
                ) from exc
        if self.algorithm == "HS256":
            if kid is not None:
                raise ValueError("HS256 tokens are signed with the secret, not with a kid")
            return jwt.encode(
                payload, self.keys.hs256_secret, algorithm="HS256", headers=dict(headers or {})
            )
        kid = kid or self.kid
        return jwt.encode(
            payload,
            self.keys.private_key(kid),
            algorithm="RS256",
            headers={"kid": kid, **(headers or {})},
        )

    def auth_headers(self, role: Role | str = Role.operator, **kwargs: Any) -> dict[str, str]:
        """`Authorization: Bearer` headers with a new token for `role` (arguments of `issue`)."""
        return bearer_headers(self.issue(role, **kwargs))
