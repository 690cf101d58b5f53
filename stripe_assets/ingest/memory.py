"""Keeping a long load's resident memory flat.

Pages are parsed by the fetching threads and their objects freed by the loading thread. glibc's
malloc gives each thread an arena of its own and keeps what one thread frees for another in the
arena it came from, so resident memory creeps up over a long load although the live data stays
bounded. Fewer arenas and an explicit trim after each large part give it back.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

import pyarrow as pa

_M_ARENA_MAX = -8  # mallopt parameter (glibc's malloc.h)


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    if libc is None or not hasattr(libc, "malloc_trim") or not hasattr(libc, "mallopt"):
        return None  # not glibc (musl, macOS): nothing to tune
    return libc


def limit_arenas(count: int = 2) -> None:
    """Let malloc use at most `count` arenas from now on."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(_M_ARENA_MAX, count)


def release_freed() -> None:
    """Return freed heap memory to the operating system (malloc's, and Arrow's own pool, which
    keeps what the batches of a part used for the next ones)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
    pa.default_memory_pool().release_unused()
