"""OpsConductor service runtime: the hand-written half of opsconductor-shared."""

from .models import PaginatedResponse

__all__ = ["PaginatedResponse"]
