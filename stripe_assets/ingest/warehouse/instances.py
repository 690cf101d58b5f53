"""DuckDB instances kept for the process's next connection to a warehouse file.

A new in-memory DuckDB instance costs ~8 ms of CPU (its built-in functions and settings), and a
small load opens two or three connections. A connection to the file takes an idle instance (or
a new one), attaches the file, and on close detaches it, which checkpoints and releases the file
exactly as closing the instance did: other processes write between a load's writes as before.
One connection uses an instance at a time (their attached name is the same); settings a
connection changed (`threads`, `memory_limit`) are reset before the next one. After a fork the
parent's instances are not used.
"""

from __future__ import annotations

import contextlib
import os
import threading

import duckdb

IDLE = 2  # instances kept for later connections (one load writes while the CLI or a reader looks)
RESET = ("threads", "memory_limit")  # the settings a warehouse connection may change

_lock = threading.Lock()
_idle: list[duckdb.DuckDBPyConnection] = []
_pid = os.getpid()
_defaults: dict[str, str] = {}  # RESET's values in a new instance (DuckDB's RESET leaves the memory limit)


def take(config: dict) -> duckdb.DuckDBPyConnection:
    """An instance with nothing attached and default settings (`config`: for a new one)."""
    global _pid
    with _lock:
        if _pid != os.getpid():  # forked: the parent's instances are not this process's
            _idle.clear()
            _pid = os.getpid()
        if _idle:
            return _idle.pop()
    instance = duckdb.connect(":memory:", config=config)
    if not _defaults:
        for setting in RESET:
            row = instance.execute("SELECT current_setting(?)", [setting]).fetchone()
            _defaults[setting] = str(row[0]) if row else ""
    return instance


def give_back(instance: duckdb.DuckDBPyConnection, attached: str | None) -> None:
    """Detach `attached` (checkpointing it and releasing the file) and keep the instance for a
    later connection; close it instead when anything of that fails or enough are kept."""
    try:
        if attached is not None:
            instance.execute(f"DETACH DATABASE IF EXISTS {attached}")
        for setting, value in _defaults.items():
            instance.execute(f"SET {setting} = '{value}'")
    except duckdb.Error:
        with contextlib.suppress(duckdb.Error):
            instance.close()  # closing releases the file whatever state the instance was in
        raise
    with _lock:
        if _pid == os.getpid() and len(_idle) < IDLE:
            _idle.append(instance)
            return
    instance.close()
