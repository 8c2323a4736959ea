"""`forged_tokens`: every token of the list is refused by the local verifier, for its reason;
the list is only made for an RS256 factory."""

from __future__ import annotations

import pytest
from opsconductor_shared import AuthenticationError
from opsconductor_shared.auth import LocalTokenVerifier
from opsconductor_shared.testing import FakeAuthService, TokenFactory, forged_tokens

pytestmark = [pytest.mark.anyio, pytest.mark.integration]


async def test_every_forged_token_is_refused_and_a_genuine_one_is_not(
    fake_auth: FakeAuthService,
) -> None:
    forged = forged_tokens(fake_auth.tokens)
    assert len(set(forged.values())) == len(forged)  # each one its own attack
    verifier = LocalTokenVerifier(fake_auth.local_settings(jwks_unknown_kid_cooldown=60))
    await verifier.start()
    try:
        await verifier.verify(fake_auth.issue())
        refused = []
        for name, token in forged.items():
            try:
                await verifier.verify(token)
            except AuthenticationError:
                refused.append(name)
        assert refused == list(forged)
    finally:
        await verifier.aclose()


def test_only_for_rs256(fake_auth: FakeAuthService) -> None:
    with pytest.raises(ValueError, match="RS256 TokenFactory"):
        forged_tokens(TokenFactory(fake_auth.keys, algorithm="HS256"))
