"""What changed after the generated snapshot: objects' current states and objects created later.

The generated data describes the account at the end of its window. Changes made as the
emulator's clock moves on are kept here, by position: the current state of every changed object,
and the objects created after the window (refunds, balance transactions), on days past it.
A reader-writer lock lets requests read while no change is being applied.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

Key = tuple[str, int, int]  # (resource, day, slot)


class ReadWriteLock:
    """Many readers at once, or one writer."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writing:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            while self._writing or self._readers:
                self._cond.wait()
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


class LiveState:
    def __init__(self, generated_days: int):
        self.generated_days = generated_days
        self.current: dict[Key, dict[str, Any]] = {}  # valid current state of changed objects
        self.served: dict[Key, bytes] = {}  # ... and the bytes the API answers for them
        self.deleted_customers: set[tuple[int, int]] = set()
        self.deleted: dict[str, set[tuple[int, int]]] = {}  # other resources' deleted objects
        self.changed: dict[str, set[tuple[int, int]]] = {}  # positions changed or created, by resource
        # Objects created after the window: resource -> day -> creation times, by slot.
        self.created_later: dict[str, dict[int, list[int]]] = {}
        self.last_day = generated_days - 1
        # Days before this one hold no pending balance transaction (they settle, `Dataset.settle`).
        self.unsettled_from = 0
        self.lock = ReadWriteLock()
        # Customers' payment methods attached after the window (newest last) and those detached,
        # by customer position: the generated ones are derived, these are what changed.
        self.attached: dict[tuple[int, int], list[dict[str, Any]]] = {}
        self.detached: dict[tuple[int, int], set[str]] = {}

    def later_created(self, resource: str, day: int) -> list[int]:
        return self.created_later.get(resource, {}).get(day, [])

    def reserve(self, resource: str, day: int, created: int) -> int:
        """A slot for an object created after the window, in creation order."""
        times = self.created_later.setdefault(resource, {}).setdefault(day, [])
        if times and created < times[-1]:
            raise ValueError(f"{resource} created out of order: {created} after {times[-1]}")
        times.append(created)
        self.last_day = max(self.last_day, day)
        return len(times) - 1
