"""Validly signed tokens with hostile time claims: every value is a 401 envelope, never a 500.

`exp`, `nbf` and `iat` out of range (beyond what a datetime holds, negative, non-finite,
strings, containers): the verifier refuses them with a 401 whatever layer meets them first
(PyJWT, the contract's model, the identity's `expires_at`, the cache's expiry).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opsconductor_shared.testing import KeySet

from tests.shared.test_error_envelope import assert_envelope

from .conftest import bearer, hs256_tokens, protected_app

KEYS = KeySet()
TOKENS = hs256_tokens(KEYS)
NOW = 1_900_000_000  # far enough ahead that exp/nbf/iat tests do not depend on today
OUT_OF_RANGE = [
    10**12,
    10**20,
    2**63,
    2**64 + 1,
    -1,
    -(10**12),
    1e308,
    math.inf,
    -math.inf,
    math.nan,
    "1700000000",
    "soon",
    "",
    True,
    [],
    {},
]
CLAIM_VALUES = st.one_of(
    st.sampled_from(OUT_OF_RANGE),
    st.integers(),
    st.floats(),
    st.text(max_size=12),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(
        protected_app(KEYS.hs256_settings(negative_cache_ttl=0)), raise_server_exceptions=False
    ) as client:
        yield client


def _token(claim: str, value: Any) -> str:
    return TOKENS.issue(validate=False, **{claim: value})


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("value", OUT_OF_RANGE, ids=repr)
def test_an_out_of_range_time_claim_is_a_401(client: TestClient, claim: str, value: Any) -> None:
    response = client.get("/me", headers=bearer(_token(claim, value)))
    assert response.status_code == 401, response.text
    assert_envelope(response, 401, "UNAUTHORIZED")
    assert response.headers["www-authenticate"].startswith("Bearer")


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(claim=st.sampled_from(["exp", "nbf", "iat"]), value=CLAIM_VALUES)
def test_any_time_claim_is_a_200_or_a_401_envelope(
    client: TestClient, claim: str, value: Any
) -> None:
    response = client.get("/me", headers=bearer(_token(claim, value)))
    assert response.status_code in (200, 401), response.text
    if response.status_code == 401:
        assert_envelope(response, 401, "UNAUTHORIZED")
    assert response.headers["x-request-id"]
    assert response.headers["x-content-type-options"] == "nosniff"
