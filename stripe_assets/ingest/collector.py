"""Keeping Python's cyclic garbage collector off a load's hot path.

A load holds up to tens of thousands of parsed objects (millions of dicts, lists and strings)
while it allocates new ones page after page. CPython's automatic collections walk them: the
young generations every 700 new containers (each parsed object is walked once or twice as it
ages: 0.05-0.1 s of a 10,000-object load's 1 s of CPU), a full collection whenever a quarter
of the heap is new (a load of 50,000 charges spent 2.1 s of its 6.7 s in 11 of them). Parsed
JSON has no reference cycles, and a load makes almost none (about 200 objects in cycles over
a whole load, from its threads and HTTP connections), so while any load of the process runs
the collector does not run on its own, in any thread: the load collects itself, fully, right
after each part it validated was released and after each completed window once it has read a
batch since its last collection (`Collections`), when it holds the fewest objects. The objects
the process held before the load, its libraries', are set aside for those collections (frozen),
so that a collection walks only what the loads made. When the last running load ends, the
collector's earlier state comes back (enabled or not, its thresholds, nothing frozen that was
not frozen before).
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator
from dataclasses import dataclass

_NEVER = 1 << 30  # a full collection after this many collections of the middle generation
_lock = threading.Lock()
_active = 0


@dataclass(frozen=True)
class _State:
    enabled: bool
    threshold: tuple[int, int, int]
    froze: bool  # whether the loads froze the process's objects (nothing was frozen before)


_saved: _State | None = None


@contextlib.contextmanager
def collections_paused() -> Iterator[None]:
    """No automatic collection while any load of the process runs (loads may run in threads)."""
    global _active, _saved
    with _lock:
        if _active == 0:
            threshold = gc.get_threshold()
            # Frozen objects are only set aside, never collected: a process that froze its own
            # keeps them so, and the loads' ones are not added to them.
            froze = gc.get_freeze_count() == 0
            _saved = _State(gc.isenabled(), threshold, froze)
            gc.disable()
            # Should something enable the collector mid-load, it still runs no full collection.
            gc.set_threshold(threshold[0], threshold[1], _NEVER)
            if froze:
                gc.freeze()
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0 and _saved is not None:
                if _saved.froze:
                    gc.unfreeze()
                gc.set_threshold(*_saved.threshold)
                if _saved.enabled:
                    gc.enable()
                _saved = None


class Collections:
    """When a load collects: after each part, and after a completed window once it has read
    `every` records since its last collection (a load of many small windows)."""

    def __init__(self, every: int) -> None:
        self.every = every
        self.read = 0  # records routed since the last collection

    def part_done(self) -> None:
        self.collect()

    def window_done(self) -> None:
        if self.read >= self.every:
            self.collect()

    def collect(self) -> None:
        self.read = 0
        gc.collect()
