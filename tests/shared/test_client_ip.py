"""ClientAddressResolver: X-Forwarded-For believed only through trusted proxies."""

from __future__ import annotations

from typing import Any

import pytest
from opsconductor_shared._client_ip import ClientAddressResolver


def _scope(peer: str, forwarded: str | None = None) -> dict[str, Any]:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return {"client": (peer, 1234), "headers": headers}


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.9", "1.2.3.4", "203.0.113.9"),  # untrusted peer: header ignored
        ("10.0.0.2", None, "10.0.0.2"),
        ("10.0.0.2", "198.51.100.7", "198.51.100.7"),
        (
            "10.0.0.2",
            "6.6.6.6, 198.51.100.7, 10.0.0.3",
            "198.51.100.7",
        ),  # spoofed left part ignored
        ("10.0.0.2", "10.0.0.4, 10.0.0.3", "10.0.0.4"),  # all trusted: the leftmost
        ("10.0.0.2", "garbage, 198.51.100.7", "198.51.100.7"),
        ("10.0.0.2", "198.51.100.7, garbage", "10.0.0.2"),  # malformed hop: stop at the peer
        ("10.0.0.2", "[2001:db8::1]:443", "2001:db8::1"),
        ("10.0.0.2", "198.51.100.7:8080", "198.51.100.7"),
    ],
)
def test_resolution(peer: str, forwarded: str | None, expected: str) -> None:
    resolver = ClientAddressResolver(["10.0.0.0/8"])
    assert resolver(_scope(peer, forwarded)) == expected


def test_no_trusted_proxies_means_the_peer() -> None:
    assert ClientAddressResolver()(_scope("10.0.0.2", "1.2.3.4")) == "10.0.0.2"
    assert ClientAddressResolver()({"headers": []}) is None


def test_bad_configuration_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not an IP address or network"):
        ClientAddressResolver(["ten.zero"])
