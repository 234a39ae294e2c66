"""Counting tries in the cache, per key, over a fixed window.

One limiter for the whole platform (pairing codes, enrolment codes, device heartbeats): the
counters live in Django's cache, shared through Redis when there are several workers, so a
limit applies to the platform and not to each process.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache


@dataclass(frozen=True)
class Limiter:
    """At most ``limit`` tries per ``window_s`` seconds for each key (an address, a
    credential…); the window starts at the first try."""

    name: str
    limit: int
    window_s: int

    def _key(self, ident) -> str:
        return f"{self.name}:{ident}"

    def exceeded(self, ident) -> bool:
        """Whether ``ident`` has used up its tries (without counting one)."""
        return (cache.get(self._key(ident)) or 0) >= self.limit

    def hit(self, ident) -> int:
        """Count one try and return how many ``ident`` made in the current window."""
        key = self._key(ident)
        try:
            return cache.incr(key)
        except ValueError:  # no window open (or it just expired): a new one starts
            if cache.add(key, 1, self.window_s):
                return 1
            return cache.incr(key)
