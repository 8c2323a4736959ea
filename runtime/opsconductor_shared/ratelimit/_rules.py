"""Which policies apply to a request: a service-wide one, and one per matching route.

    default        every request not exempt (per role when the role has its own)
    routes[i]      requests whose method and path match the route template, first match
                   wins (per role when the route names one); a separate counter

A request passes only when every policy that applies admits it. Route templates are
Starlette's (`/targets/{target_id}`, `/files/{path:path}`), matched against the path before
routing; exempt paths (the health routes and `/metrics` by default) are never limited.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from starlette.routing import compile_path

from ._policy import RateLimit

__all__ = ["DEFAULT_EXEMPT_PATHS", "RateLimitRules", "RouteRule"]

DEFAULT_EXEMPT_PATHS = ("/health", "/health/live", "/health/ready", "/metrics")


@dataclass(frozen=True)
class RouteRule:
    """A limit for the requests of one route template (and methods; empty: all).

    Args:
        path: a Starlette path template.
        limit: the route's policy; None limits only the roles in `roles`.
        methods: HTTP methods it applies to; empty: every method.
        roles: role -> policy, instead of `limit` for callers of that role.
    """

    path: str
    limit: RateLimit | None = None
    methods: frozenset[str] = frozenset()
    roles: Mapping[str, RateLimit] = field(default_factory=dict)
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.path.startswith("/"):
            raise ValueError(f"route template {self.path!r} must start with '/'")
        object.__setattr__(self, "pattern", compile_path(self.path)[0])
        object.__setattr__(self, "methods", frozenset(m.upper() for m in self.methods))

    def matches(self, method: str, path: str) -> bool:
        return (not self.methods or method in self.methods) and bool(self.pattern.match(path))

    def policy_for(self, role: str | None) -> RateLimit | None:
        return (self.roles.get(role) if role else None) or self.limit


class RateLimitRules:
    """The policies of a service (see the module docstring).

    Args:
        default: the service-wide policy; None: none.
        roles: role -> service-wide policy for callers of that role.
        routes: route rules, tried in order.
        exempt: paths or templates never limited.
    """

    def __init__(
        self,
        *,
        default: RateLimit | None = None,
        roles: Mapping[str, RateLimit] | None = None,
        principals: Mapping[str, RateLimit] | None = None,
        routes: Sequence[RouteRule] = (),
        exempt: Iterable[str] = DEFAULT_EXEMPT_PATHS,
    ) -> None:
        self.default = default
        self.roles = dict(roles or {})
        self.principals = dict(principals or {})
        self.routes = tuple(routes)
        exempt = tuple(exempt)
        self._exempt_exact = frozenset(p for p in exempt if "{" not in p)
        self._exempt_patterns = tuple(compile_path(p)[0] for p in exempt if "{" in p)
        # The service-wide policy of each role, resolved once: without route rules, a
        # request's policies are one dictionary lookup.
        self._service_wide = {
            role: (policy,) for role, policy in self.roles.items() if policy is not None
        }
        self._default = (default,) if default is not None else ()

    def __repr__(self) -> str:
        return f"RateLimitRules(default={self.default!r}, roles={self.roles!r}, routes={len(self.routes)})"

    def is_exempt(self, path: str) -> bool:
        return path in self._exempt_exact or any(p.match(path) for p in self._exempt_patterns)

    def limits_route(self, methods: Iterable[str], template: str) -> bool:
        """Whether any policy can apply to a route (its methods and path template), for any
        caller: what its OpenAPI document says (429)."""
        if self.is_exempt(template):
            return False
        if self.default is not None or self.roles or self.principals:
            return True
        return any(
            rule.pattern.match(template)
            and (not rule.methods or not rule.methods.isdisjoint(methods))
            and (rule.limit is not None or rule.roles)
            for rule in self.routes
        )

    def policies(
        self, method: str, path: str, role: str | None, subject: str | None = None
    ) -> tuple[RateLimit, ...]:
        """The policies that apply to one request, service-wide first: the principal's own
        (`subject`, such as `service:scheduler`), else its role's, else the default."""
        own = self.principals.get(subject) if subject and self.principals else None
        if own is not None:
            service_wide: tuple[RateLimit, ...] = (own,)
        else:
            service_wide = (self._service_wide.get(role) if role else None) or self._default
        if not self.routes:
            return service_wide
        found = list(service_wide)
        for rule in self.routes:
            if rule.matches(method, path):
                policy = rule.policy_for(role)
                if policy is not None:
                    found.append(policy)
                break
        return tuple(found)
