"""Forged, broken and hostile tokens: the list every verifier, and every protected route, must
answer with 401 (never 200, never 500).

    for name, token in forged_tokens(fake_auth.tokens).items():
        assert client.get("/me", headers=bearer_headers(token)).status_code == 401, name

The tokens are made for one RS256 `TokenFactory` whose signing key the service trusts (through
a JWKS): `alg: none`, HS256 "signed" with the RSA public key, a tampered payload, the wrong
issuer or audience, expired and not yet valid tokens, refresh tokens, truncated and oversized
tokens, another RS algorithm with the right key, a key the JWKS never published, claims
outside the contract, and plain garbage.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from ._tokens import TokenFactory

__all__ = ["forged_tokens"]

_OVERSIZED = 8192


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(value: dict[str, Any]) -> str:
    return _b64(json.dumps(value).encode())


@functools.cache
def _unpublished_key() -> rsa.RSAPrivateKey:
    # Outside every KeySet, so no JWKS can ever publish it.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def forged_tokens(tokens: TokenFactory) -> dict[str, str]:
    """Every hostile token of the list (module docstring), by name, made fresh now.

    Args:
        tokens: an RS256 factory whose signing key the verifier under test trusts.

    Raises:
        ValueError: the factory signs HS256 (the list attacks an RS256 verifier).
    """
    if tokens.algorithm != "RS256":
        raise ValueError("forged_tokens attacks an RS256 verifier: pass an RS256 TokenFactory")
    kid = tokens.kid
    claims = tokens.claims()
    valid = tokens.issue()
    header, _, signature = valid.split(".")
    hs256_header = _segment({"alg": "HS256", "typ": "JWT", "kid": kid})
    hs256_input = f"{hs256_header}.{_segment(claims)}".encode()
    public_pem = tokens.keys.public_pem(kid)
    now = int(claims["iat"])
    unsigned = f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{_segment(claims)}"
    return {
        "alg_none_empty_signature": f"{unsigned}.",
        "alg_none_with_signature": f"{unsigned}.c2lnbmF0dXJl",
        "hs256_signed_with_rsa_public_key": (
            f"{hs256_input.decode()}."
            f"{_b64(hmac.new(public_pem, hs256_input, hashlib.sha256).digest())}"
        ),
        "expired": tokens.issue(iat=now - 7200, exp=now - 3600),
        "not_yet_valid": tokens.issue(nbf=now + 3600),
        "wrong_issuer": tokens.issue(iss="someone-else"),
        "wrong_audience": tokens.issue(aud="another-product"),
        "tampered_payload": f"{header}.{_segment(tokens.claims(role='admin'))}.{signature}",
        "refresh_token_as_access_token": tokens.issue(type="refresh"),
        "truncated_signature": valid[:-12],
        "two_segments": valid.rsplit(".", 1)[0],
        "garbage": "not-a-jwt-at-all",
        "garbage_segments": "a.b.c",
        "header_not_json": f"{_b64(b'not json')}.{_segment(claims)}.c2ln",
        "header_not_an_object": f"{_b64(b'[1,2]')}.{_segment(claims)}.c2ln",
        "oversized_8kb_signed": tokens.issue(permissions=["p" * 60] * 130),
        "oversized_8kb_garbage": "a" * _OVERSIZED,
        "other_algorithm_for_the_key": jwt.encode(
            claims, tokens.keys.private_key(kid), algorithm="RS512", headers={"kid": kid}
        ),
        "signed_by_unpublished_key": jwt.encode(
            claims, _unpublished_key(), algorithm="RS256", headers={"kid": kid}
        ),
        "missing_exp": tokens.issue(exp=None, validate=False),
        "claims_not_the_contract": tokens.issue(role="superuser", validate=False),
        "non_ascii": valid[:-4] + "ééé",
    }
