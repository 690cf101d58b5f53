"""Stripe-looking object ids that carry their own position.

An id is a prefix plus 24 alphanumerics, like Stripe's. The first six characters encode the
object's day and slot in base 62 with an alphabet in ASCII order, so ids of one day sort like
their slots and a cursor (`starting_after=ch_...`) is decoded without an index. The remaining
18 characters depend on the seed, so different seeds give different ids.
"""

from __future__ import annotations

import struct
from hashlib import blake2b

from stripe_assets_emulator.rng import Purpose, digest

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"  # ASCII order
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
# Maps each byte to a character; the slight skew towards the first 8 characters is harmless.
_BYTE_TO_CHAR = bytes(ord(ALPHABET[b % len(ALPHABET)]) for b in range(256))
BODY_LENGTH = 24
DAY_WIDTH = 2
SLOT_WIDTH = 4
MAX_DAYS = len(ALPHABET) ** DAY_WIDTH  # 3,844 days
MAX_PER_DAY = len(ALPHABET) ** SLOT_WIDTH  # 14,776,336 objects per day


_PAIRS = tuple(a + b for a in ALPHABET for b in ALPHABET)  # every number < 3844 in 2 characters


def _position_chars(day: int, slot: int) -> str:
    """The day in 2 base-62 characters and the slot in 4, by table lookup (every object
    builds several ids)."""
    high, low = divmod(slot, MAX_DAYS)
    return _PAIRS[day] + _PAIRS[high] + _PAIRS[low]


def decode(text: str) -> int | None:
    number = 0
    for char in text:
        digit = _VALUE.get(char)
        if digit is None:
            return None
        number = number * 62 + digit
    return number


def random_chars(length: int, *key: int) -> str:
    """`length` (<= 64) alphanumerics drawn from a tuple of integers."""
    return digest(key, length).translate(_BYTE_TO_CHAR).decode("ascii")


_PACK_ID_KEY = struct.Struct("<5Q").pack
_TAIL_LENGTH = BODY_LENGTH - DAY_WIDTH - SLOT_WIDTH


def object_id(prefix: str, seed: int, tag: int, day: int, slot: int) -> str:
    # random_chars(), inlined: every object builds several ids.
    key = _PACK_ID_KEY(seed, tag, day, slot, Purpose.ID)
    tail = blake2b(key, digest_size=_TAIL_LENGTH).digest().translate(_BYTE_TO_CHAR).decode("ascii")
    return prefix + _position_chars(day, slot) + tail


def position(body: str) -> tuple[int, int] | None:
    """(day, slot) encoded at the start of an id's body, or None if it is not one of ours."""
    if len(body) != BODY_LENGTH:
        return None
    day = decode(body[:DAY_WIDTH])
    slot = decode(body[DAY_WIDTH : DAY_WIDTH + SLOT_WIDTH])
    if day is None or slot is None or decode(body[DAY_WIDTH + SLOT_WIDTH :]) is None:
        return None
    return day, slot


def related_id(prefix: str, length: int, *key: int) -> str:
    """An id for something the emulator does not serve (invoice lines, payment methods, ...)."""
    return prefix + random_chars(length, *key, Purpose.RELATED_ID)
