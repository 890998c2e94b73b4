"""The browser tests share one stack per module (gateway.testing)."""

from gateway.testing import stack

__all__ = ["stack"]
