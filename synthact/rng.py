"""Counter-based randomness: every draw is a pure function of (seed, scope, name).

A draw is the BLAKE2b hash of its key, so the value of one factor of one scene never depends
on how many other factors exist, in which order they are drawn, or which process draws them.
"""
from __future__ import annotations

import math
from hashlib import blake2b

_TWO_POW_53 = float(1 << 53)


class Stream:
    """Independent uniform draws keyed by name inside a scope such as 'scene/42'."""

    __slots__ = ("_prefix",)

    def __init__(self, seed: int, scope: str):
        self._prefix = f"{seed}/{scope}/"

    def child(self, name: str) -> "Stream":
        s = Stream.__new__(Stream)
        s._prefix = self._prefix + name + "/"
        return s

    def bits64(self, name: str) -> int:
        digest = blake2b((self._prefix + name).encode(), digest_size=8).digest()
        return int.from_bytes(digest, "little")

    def uniform01(self, name: str) -> float:
        """A float in the open interval (0, 1)."""
        return ((self.bits64(name) >> 11) + 0.5) / _TWO_POW_53

    def normal(self, name: str) -> float:
        """A standard normal draw (Box-Muller on two keyed uniforms)."""
        u1 = self.uniform01(name + "#u1")
        u2 = self.uniform01(name + "#u2")
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)

    def below(self, name: str, n: int) -> int:
        """An integer in [0, n)."""
        return min(int(self.uniform01(name) * n), n - 1)
