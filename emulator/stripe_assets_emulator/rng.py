"""Deterministic randomness keyed by position, so any object can be rebuilt on its own.

Every random choice is drawn from a generator seeded by a tuple such as
(seed, resource, day, slot, purpose). Nothing depends on the order in which objects are
requested, which is what lets the emulator build objects lazily and still answer the same bytes.
"""

from __future__ import annotations

import struct
from hashlib import blake2b

_MASK = (1 << 64) - 1


# Key parts must be in [0, 2**64): seeds are masked once, by `seed_key`.
_PACK = {n: struct.Struct(f"<{n}Q").pack for n in range(1, 12)}
_WORDS = struct.Struct("<8Q").unpack


def seed_key(seed: int) -> int:
    """A seed of any size as a key part."""
    return seed & _MASK


def digest(parts: tuple[int, ...], size: int) -> bytes:
    """`size` (<= 64) well-spread bytes for a tuple of integers, stable across processes."""
    return blake2b(_PACK[len(parts)](*parts), digest_size=size).digest()


def mix(*parts: int) -> int:
    """A well-spread 64-bit number for a tuple of integers."""
    return int.from_bytes(digest(parts, 8), "little")


def unit(*parts: int) -> float:
    """A number in [0, 1) for a tuple of integers."""
    return mix(*parts) / 2.0**64


class Draws:
    """A few random numbers for one object (four times cheaper to start than a `random.Random`;
    whole days are drawn with numpy instead)."""

    __slots__ = ("_next", "_words")

    def __init__(self, *parts: int):
        self._words = _WORDS(blake2b(_PACK[len(parts)](*parts), digest_size=64).digest())
        self._next = 0

    def word(self) -> int:
        if self._next == 8:  # rare: objects rarely need more than eight draws
            self._words = _WORDS(blake2b(_PACK[8](*self._words), digest_size=64).digest())
            self._next = 0
        self._next += 1
        return self._words[self._next - 1]

    def random(self) -> float:
        return self.word() / 18446744073709551616.0

    def randrange(self, n: int) -> int:
        return self.word() % n

    def randint(self, low: int, high: int) -> int:
        return low + self.word() % (high - low + 1)

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.random()

    def choice(self, options):
        return options[self.word() % len(options)]

    def weighted(self, options, weights):
        point = self.random() * sum(weights)
        for option, weight in zip(options, weights, strict=True):
            point -= weight
            if point < 0:
                return option
        return options[-1]


# What a draw is for: the same position draws independent numbers for different purposes.
class Purpose:
    DAY = 1  # a day's timestamps and traits
    OBJECT = 2  # an object's cosmetic fields
    ID = 3  # an object's id characters
    INVALID = 4  # whether and how an object is made invalid
    PERSON = 5  # a customer's name, email and address
    CARD = 6  # a customer's card
    REFUND_SPLIT = 7  # how a charge's refunds share the refunded amount
    RELATED_ID = 8  # ids of objects the emulator does not serve (pi_, pm_, in_, si_, prod_)
    REQUEST = 9  # per-request randomness (latency jitter, request ids)
    DESCRIPTION = 10  # a charge's description, shared with its balance transactions
    EVENT = 11  # event ids
    CHANGE = 12  # which objects change as the clock advances, when and how
    REPORT = 13  # report run and file ids
