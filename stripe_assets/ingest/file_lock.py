"""An exclusive lock on an open file, shared by every process of the machine (`flock`): the
kernel releases it when the holder dies, so a killed run never leaves it held."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from typing import IO


@contextlib.contextmanager
def holding(file: IO | int) -> Iterator[None]:
    """Wait for, then hold, the lock of `file` (an open file or descriptor)."""
    fcntl.flock(file, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(file, fcntl.LOCK_UN)
