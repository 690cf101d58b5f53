"""Real small and read-only file systems for warehouse faults (tmpfs mounts need root)."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, text=True, timeout=30)


@contextlib.contextmanager
def tiny_disk(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` at `path`; the test is skipped (with the reason) where mounting is impossible."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("a full disk needs a tiny tmpfs, and mounting one needs root")
    try:
        _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path))
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot mount a tmpfs here: {getattr(exc, 'stderr', '') or exc}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30)


def fill(disk: Path, leave_bytes: int) -> None:
    """Fill `disk` until only about `leave_bytes` are free."""
    stats = os.statvfs(disk)
    free = stats.f_bavail * stats.f_frsize
    with open(disk / "filler", "wb") as f:
        f.write(b"\0" * max(free - leave_bytes, 0))


@contextlib.contextmanager
def read_only_copy(files: list[Path], where: Path) -> Iterator[Path]:
    """`files` copied into a directory nobody may write to: a read-only mount as root, else 0555."""
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        for f in files:
            (where / f.name).write_bytes(f.read_bytes())
        where.chmod(0o555)
        try:
            yield where
        finally:
            where.chmod(0o755)
        return
    try:
        _mount("-t", "tmpfs", "-o", "size=64m", "tmpfs", str(where))
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot mount a tmpfs here: {getattr(exc, 'stderr', '') or exc}")
    try:
        for f in files:
            (where / f.name).write_bytes(f.read_bytes())
        _mount("-o", "remount,ro", str(where))
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=30)
