"""Where the warehouse is and how a connection to it is opened: the DuckDB file attached under
one catalog name, or a DuckLake.

DuckDB lets one process at a time open a file for writing. Runs fetch and validate without a
connection and hold one only for the short write: an OS file lock beside the database queues our
own writers in order, and a retry loop waits out anything else holding the file (a notebook,
the CLI summary), so concurrent runs never fail with "Could not set lock".
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import duckdb

from stripe_assets.ingest.file_lock import holding
from stripe_assets.ingest.warehouse import instances
from stripe_assets.ingest.warehouse.errors import WarehouseError, describe_warehouse_error
from stripe_assets.ingest.warehouse.lake import (
    Lake,
    LakeConfigError,
    is_missing,
    no_download_config,
    redact,
    shared_connection,
)

DEFAULT_DUCKDB_PATH = "data/stripe.duckdb"
CATALOG = "warehouse"  # the name the file is attached under in every connection
# The storage version a new DuckDB file is created in: the first that compresses text with zstd
# (JSON such as `raw` checkpoints at about half the CPU of the default's FSST, in a quarter of the space).
# DuckDB 1.2.0 and later open it. A file created before keeps its own version: attaching never
# upgrades it, and its tables keep their compression (`tables.zstd_text`).
STORAGE_VERSION = "v1.2.0"


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc)
    return "Could not set lock" in text or "Conflicting lock" in text


class WarehouseConnections:
    """Where the warehouse is, and short-lived connections to it taken in turn with every other user."""

    def __init__(
        self,
        path: str | os.PathLike = DEFAULT_DUCKDB_PATH,
        *,
        lock_timeout_seconds: float = 600.0,
        lake: Lake | None = None,  # the DuckLake backend (lake.py); None: the DuckDB file at `path`
    ):
        self.lake = lake
        # A local DuckLake catalog is a DuckDB file: opened and locked like the warehouse file.
        self.path = Path(lake.catalog_file if lake is not None and lake.catalog_file else path)
        self.lock_timeout_seconds = lock_timeout_seconds

    def __str__(self) -> str:
        """Where it is, for messages: the file, or the lake's catalog (without a password)."""
        return self.lake.describe() if self.lake is not None else str(self.path)

    def exists(self) -> bool:
        """Whether a load created it already (reading commands say so instead of failing)."""
        if self.lake is None or not self.lake.shared:
            return self.path.exists()
        try:
            with self.connect(read_only=True):
                return True
        except WarehouseError as exc:
            if "yet: run a load first" in str(exc):
                return False
            raise

    def check_writable(self) -> None:
        """Fail early, before any fetching, when the database file cannot be created or written."""
        if self.lake is not None:
            try:
                self.lake.check_writable()
            except LakeConfigError as exc:
                raise WarehouseError(str(exc)) from None
            if self.lake.shared:
                return
        directory = self.path.parent if str(self.path.parent) else Path(".")
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WarehouseError(
                f"cannot create the directory of the DuckDB file {self.path} "
                f"(STRIPE_ASSETS_DUCKDB_PATH): {exc.strerror}"
            ) from None
        if self.path.is_dir():
            raise WarehouseError(f"the DuckDB path {self.path} (STRIPE_ASSETS_DUCKDB_PATH) is a directory")
        target = self.path if self.path.exists() else directory
        if not os.access(target, os.W_OK):
            raise WarehouseError(
                f"the DuckDB file {self.path} (STRIPE_ASSETS_DUCKDB_PATH) is not writable"
            )

    @contextlib.contextmanager
    def connect(
        self, *, read_only: bool = False, row_group_size: int | None = None
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived connection, serialized with every other user of this file.

        A DuckLake with a shared catalog takes no lock: its writers commit optimistically.
        `row_group_size`: rows per row group this connection writes to the DuckDB file.
        """
        if self.lake is not None and self.lake.shared:
            if not read_only:
                self.check_writable()
            try:
                conn = shared_connection(self.lake, CATALOG, read_only=read_only)
            except (duckdb.Error, LakeConfigError) as exc:
                if is_missing(exc):
                    raise WarehouseError(f"no warehouse at {self} yet: run a load first") from None
                # One line: libpq adds its hints on lines of their own ("Is the server running ...").
                raise WarehouseError(f"cannot open {self}: {' '.join(redact(str(exc)).split())}") from None
            try:
                yield conn
            finally:
                conn.close()
            return
        if read_only and not self.path.exists():
            raise WarehouseError(f"no warehouse at {self.path} yet: run a load first")
        if not read_only:
            self.check_writable()
        with self._lock(read_only):
            if self.lake is not None:
                conn = self._open(read_only, row_group_size)
                try:
                    yield conn
                finally:
                    conn.close()
                return
            instance = self._open_file(read_only, row_group_size)
            try:
                conn = instance.cursor()  # its own temporary tables, registrations and transaction
                conn.execute(f"USE {CATALOG}")
            except BaseException:
                instances.give_back(instance, CATALOG)
                raise
            try:
                yield conn
            finally:
                try:
                    conn.close()  # rolls back what the caller left open
                finally:
                    instances.give_back(instance, CATALOG)  # detached: the file is free for others

    @contextlib.contextmanager
    def _lock(self, read_only: bool) -> Iterator[None]:
        """Hold the lock file beside the database (readers too: a write commits undisturbed).

        A reader on a read-only directory cannot create or open it for writing: it opens an
        existing one for reading (flock works on any descriptor), or goes without; DuckDB's own
        lock still keeps it from reading a half-written file.
        """
        lock_file = _open_lock(self.path.with_name(self.path.name + ".lock"), read_only)
        if lock_file is None:
            yield
            return
        with lock_file, holding(lock_file):
            yield

    def _open_file(self, read_only: bool, row_group_size: int | None) -> duckdb.DuckDBPyConnection:
        """An instance (see `instances`) with the DuckDB file attached."""
        path = str(self.path).replace("'", "''")

        def attach() -> duckdb.DuckDBPyConnection:
            instance = instances.take(no_download_config())
            try:
                # Opened as `stripe.duckdb`, the file's catalog would be called `stripe` and clash
                # with the `stripe` schema ("Ambiguous reference"): attach it under another name.
                instance.execute(f"ATTACH '{path}' AS {CATALOG}{self._attach_options(read_only, row_group_size)}")
            except duckdb.Error:
                instances.give_back(instance, None)  # nothing attached: the failed ATTACH left nothing
                raise
            return instance

        return self._while_locked(attach)

    def _open(self, read_only: bool, row_group_size: int | None = None) -> duckdb.DuckDBPyConnection:
        """A DuckDB instance of its own with the lake attached (the lake's settings and
        extensions stay with it)."""
        lake = self.lake
        assert lake is not None

        def attach() -> duckdb.DuckDBPyConnection:
            conn = duckdb.connect(":memory:", config=no_download_config())
            try:
                lake.attach(conn, CATALOG, read_only=read_only)
                conn.execute(f"USE {CATALOG}")
            except BaseException:
                conn.close()
                raise
            return conn

        try:
            return self._while_locked(attach)
        except LakeConfigError as exc:
            raise WarehouseError(str(exc)) from None

    def _while_locked(self, attach: Callable[[], duckdb.DuckDBPyConnection]) -> duckdb.DuckDBPyConnection:
        """`attach()`, tried again while another process holds the file, up to the lock timeout;
        any other DuckDB error is one line naming its cause."""
        deadline = time.monotonic() + self.lock_timeout_seconds
        delay = 0.05
        while True:
            try:
                return attach()
            except duckdb.Error as exc:
                if not _is_lock_error(exc):
                    raise WarehouseError(f"cannot open: {redact(describe_warehouse_error(exc, self))}") from None
                if time.monotonic() > deadline:
                    raise WarehouseError(
                        f"the DuckDB file {self.path} stayed locked by another process for "
                        f"{self.lock_timeout_seconds:.0f}s: {exc}"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 1.0)

    def _attach_options(self, read_only: bool, row_group_size: int | None) -> str:
        """ATTACH's options: a file that does not exist yet is created at STORAGE_VERSION (under
        the lock: no other writer of ours creates it meanwhile); an existing one keeps its own."""
        if read_only:
            return " (READ_ONLY)"
        options = [] if self.path.exists() else [f"STORAGE_VERSION '{STORAGE_VERSION}'"]
        if row_group_size is not None:
            options.append(f"ROW_GROUP_SIZE {int(row_group_size)}")
        return f" ({', '.join(options)})" if options else ""


def _open_lock(path: Path, read_only: bool) -> IO[str] | None:
    """The lock file, opened for the caller to close; a reader that may not create or write it
    opens it for reading, or goes without (None)."""
    try:
        return open(path, "a+")
    except OSError:
        if not read_only:
            raise
    try:
        return open(path)
    except OSError:
        return None
