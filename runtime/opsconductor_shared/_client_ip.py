"""The client's address, taken through trusted proxies only.

`X-Forwarded-For` is a list anyone can write to; only the entries appended by proxies we
trust mean anything. The resolver starts at the TCP peer: if the peer is not a trusted proxy,
the peer is the client and the header is ignored (a spoofed header from an untrusted peer
changes nothing). Otherwise it walks the header from the right, skipping trusted proxies, and
the first untrusted address is the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from starlette.types import Scope

__all__ = ["ClientAddressResolver"]

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=1024)
def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip().strip('"')
    if value.startswith("["):  # [v6]:port
        value = value[1 : value.find("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


class ClientAddressResolver:
    """Resolves a request's client address (see the module docstring).

    Args:
        trusted_proxies: networks (`10.0.0.0/8`) or addresses of the proxies in front of the
            service. Empty: the TCP peer is always the client.
        header: the forwarding header the proxies append to.

    Raises:
        ValueError: an entry of `trusted_proxies` is not an address or network.
    """

    def __init__(
        self, trusted_proxies: Iterable[str | IPNetwork] = (), *, header: str = "x-forwarded-for"
    ) -> None:
        networks: list[IPNetwork] = []
        for entry in trusted_proxies:
            try:
                networks.append(
                    entry
                    if isinstance(entry, IPNetwork)
                    else ipaddress.ip_network(entry, strict=False)
                )
            except ValueError as exc:
                raise ValueError(
                    f"trusted proxy {entry!r} is not an IP address or network (such as 10.0.0.0/8)"
                ) from exc
        self.trusted = tuple(networks)
        self.header = header.lower().encode("latin-1")

    def __repr__(self) -> str:
        return f"ClientAddressResolver(trusted_proxies={[str(n) for n in self.trusted]!r})"

    def is_trusted(self, address: str) -> bool:
        parsed = _parse(address)
        return parsed is not None and any(parsed in network for network in self.trusted)

    def __call__(self, scope: Scope) -> str | None:
        client = scope.get("client")
        peer: str | None = client[0] if client else None
        if not self.trusted or peer is None or not self.is_trusted(peer):
            return peer
        forwarded = [
            part
            for name, value in scope.get("headers", ())
            if name == self.header
            for part in value.decode("latin-1").split(",")
        ]
        for entry in reversed(forwarded):
            parsed = _parse(entry)
            if parsed is None:
                # A malformed entry: nothing to its left can be trusted either.
                return peer
            if not any(parsed in network for network in self.trusted):
                return str(parsed)
        return str(_parse(forwarded[0])) if forwarded else peer
