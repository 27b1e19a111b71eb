"""specproof's service adapter: any endpoint that speaks the wire protocol over TCP (an agent, a third party)."""

from .adapter import ServiceAdapter

__all__ = ["ServiceAdapter"]
