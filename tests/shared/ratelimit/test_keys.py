"""Principals, subjects and header values."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opsconductor_contracts import Identity, PrincipalType, Role
from opsconductor_shared.ratelimit import Principal, RateLimit, RateLimitDecision
from opsconductor_shared.ratelimit._headers import rate_limit_headers
from opsconductor_shared.ratelimit._keys import principal_from_state, principal_of, subject_for


@pytest.mark.parametrize(
    ("identity", "principal"),
    [
        (None, None),
        ({"user_id": "u1", "role": "admin"}, Principal("u1", "admin")),
        ({"sub": "u2"}, Principal("u2", None)),
        ({"role": "admin"}, None),
        (SimpleNamespace(user_id="u3", role=Role.operator), Principal("u3", "operator")),
        (SimpleNamespace(sub="u4", role=None), Principal("u4", None)),
        (SimpleNamespace(name="nobody"), None),
        (Principal("u5", "viewer"), Principal("u5", "viewer")),
        ({"user_id": 42, "role": "viewer"}, Principal("42", "viewer")),
    ],
)
def test_principal_of(identity: object, principal: Principal | None) -> None:
    assert principal_of(identity) == principal


def test_principal_from_state() -> None:
    assert principal_from_state({"type": "http"}) is None
    assert principal_from_state({"state": {}}) is None
    scope = {"state": {"identity": {"user_id": "u", "role": "admin"}}}
    assert principal_from_state(scope) == Principal("u", "admin")


def test_subjects() -> None:
    assert subject_for(Principal("u1"), "10.0.0.1") == "user:u1"
    assert subject_for(None, "10.0.0.1") == "ip:10.0.0.1"
    assert subject_for(None, None) == "ip:unknown"
    # Braces would break Redis cluster hash tags; very long ids would bloat keys.
    braces = subject_for(Principal("a}b{c"), None)
    assert braces.startswith("user:sha256:")
    assert "{" not in braces
    assert len(subject_for(Principal("x" * 500), None)) < 80


def test_headers_follow_draft_09() -> None:
    wide, narrow = RateLimit(100, 60), RateLimit(10, 30, "POST /things")
    decisions = [
        RateLimitDecision(wide, True, 42, 17.2, 0.0),
        RateLimitDecision(narrow, False, 0, 30.0, 3.0),
    ]
    assert rate_limit_headers([wide, narrow], decisions) == [
        (b"ratelimit-policy", b'"default";q=100;w=60, "POST /things";q=10;w=30'),
        (b"ratelimit", b'"default";r=42;t=18, "POST /things";r=0;t=30'),
    ]
    assert rate_limit_headers([wide], []) == [(b"ratelimit-policy", b'"default";q=100;w=60')]
    assert rate_limit_headers([], []) == []


@given(
    user_id=st.text(min_size=1, max_size=20),
    role=st.sampled_from(list(Role)),
    principal_type=st.sampled_from(list(PrincipalType)),
)
def test_the_contracts_identity_gives_the_principal_its_fields_give(
    user_id: str, role: Role, principal_type: PrincipalType
) -> None:
    """The auth layer's `Identity` (read directly, on every authenticated request) and the
    same fields as any other object give the same principal."""
    identity = Identity(
        user_id=user_id,
        username="someone",
        role=role,
        permissions=[],
        token_version=1,
        token_id="t1",
        expires_at=datetime(2030, 1, 1, tzinfo=UTC),
        principal_type=principal_type,
    )
    fields = SimpleNamespace(user_id=user_id, role=role, principal_type=principal_type)
    assert principal_of(identity) == principal_of(fields)
    assert principal_of(identity) == Principal(user_id, role.value, principal_type.value)


def test_an_identity_with_a_plain_string_role_takes_the_general_path() -> None:
    identity = Identity(
        user_id="u1",
        username="someone",
        role=Role.admin,
        permissions=[],
        token_version=1,
        token_id="t1",
        expires_at=datetime(2030, 1, 1, tzinfo=UTC),
    )
    identity.role = "admin"  # type: ignore[assignment]  # no validation on assignment
    assert principal_of(identity) == Principal("u1", "admin", "user")
    empty = identity.model_copy(update={"user_id": ""})
    assert principal_of(empty) is None
