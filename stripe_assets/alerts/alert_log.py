"""The persisted alert log: one JSON object per line, appended whole under an exclusive file lock.

It lives outside the DuckDB warehouse so writing an alert never waits on the warehouse lock, and
several processes (sensor, `alerts test`) can append to it at once without interleaving lines.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from stripe_assets.ingest.redact import redact
from stripe_assets.settings import resolve_path

try:  # POSIX; elsewhere O_APPEND single writes are the only guarantee
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_WAIT_SECONDS = 5.0


class AlertLogError(RuntimeError):
    pass


def append_record(path: str | Path, record: dict[str, Any]) -> None:
    """Append one record as a single line; raises AlertLogError naming the file on failure."""
    line = (redact(json.dumps(record, default=str, ensure_ascii=False)) + "\n").encode()
    path = resolve_path(path)  # a relative path is the project's, from any working directory
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as exc:
        raise AlertLogError(f"alert log {path}: {exc.strerror or exc}") from None
    try:
        _lock(fd, path)
        os.write(fd, line)
    except OSError as exc:
        raise AlertLogError(f"alert log {path}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)  # also releases the lock


def _lock(fd: int, path: Path) -> None:
    if fcntl is None:
        return
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise AlertLogError(f"alert log {path}: still locked after {LOCK_WAIT_SECONDS:g} s") from None
            time.sleep(0.01)


def read_records(path: str | Path) -> Iterator[dict[str, Any]]:
    """Records in file order; an absent log has none."""
    path = resolve_path(path)
    if not path.exists():
        return
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


# An interrupted pass is replayed soon after; its records sit near the end of the log.
DEDUPE_TAIL_BYTES = 4_000_000


def delivered_pairs(paths: list[str], alert_ids: set[str]) -> set[tuple[str, str]]:
    """(alert_id, channel) pairs the logs' recent records show as delivered, among `alert_ids`."""
    found: set[tuple[str, str]] = set()
    for path in paths:
        try:
            with open(resolve_path(path), "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - DEDUPE_TAIL_BYTES))
                tail = f.read()
        except FileNotFoundError:
            continue
        for line in tail.splitlines():
            if b'"delivery"' not in line:
                continue
            try:
                record = json.loads(line)
            except ValueError:  # the first line of the tail may be cut
                continue
            if record.get("record") == "delivery" and record.get("delivered") and record.get("alert_id") in alert_ids:
                found.add((record["alert_id"], record["channel"]))
    return found
