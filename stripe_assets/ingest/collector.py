"""Keeping Python's cyclic garbage collector off a load's hot path.

A load holds up to tens of thousands of parsed objects (millions of dicts, lists and strings)
while it allocates new ones page after page. Every full collection walks all of them, and
CPython starts one whenever a quarter of the heap is new since the last: a load of 50,000
charges spent 2.1 s of its 6.7 s of CPU in 11 of them (0.6 s in collections without them).
Parsed JSON has no reference cycles, so during a load only the young generations are collected
(they catch the short-lived cycles of HTTP responses and exceptions), and the load runs a full
collection itself right after each part it validated was released, when it holds the fewest
objects (a cycle that outlived the young generations is freed there, at a fraction of the
cost; the objects the process held before the load, its libraries', are set aside for it, so
that a collection walks only what the load made). Full collections resume their own schedule
when the last running load ends.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_NEVER = 1 << 30  # a full collection after this many collections of the middle generation
_lock = threading.Lock()
_active = 0
_saved: tuple[int, int, int] | None = None


@contextlib.contextmanager
def young_collections_only() -> Iterator[None]:
    """No full collection while any load of the process runs (loads may run in threads)."""
    global _active, _saved
    with _lock:
        if _active == 0:
            _saved = gc.get_threshold()
            gc.set_threshold(_saved[0], _saved[1], _NEVER)
            gc.freeze()
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0 and _saved is not None:
                gc.unfreeze()
                gc.set_threshold(*_saved)
                _saved = None


def collect_now() -> None:
    """A full collection, at a moment the caller holds few objects."""
    gc.collect()
