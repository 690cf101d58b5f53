"""The DuckDB warehouse: tables per resource, and the one transaction that lands a load.

DuckDB lets one process at a time open a file for writing. Runs fetch and validate without a
connection and hold one only for the short write: an OS file lock beside the database queues our
own writers in order, and a retry loop waits out anything else holding the file (a notebook,
the CLI summary), so concurrent runs never fail with "Could not set lock".
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Protocol

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.columns import SYSTEM_COLUMNS, ColumnSpec
from stripe_assets.ingest.file_lock import holding
from stripe_assets.ingest.keys import ACCOUNT_COLUMN, ACCOUNT_COLUMNS, account_filter
from stripe_assets.ingest.warehouse.deletions import hold_deleted, restore_deleted
from stripe_assets.ingest.warehouse.errors import describe_staging_error, describe_warehouse_error
from stripe_assets.ingest.warehouse.lake import (
    Lake,
    LakeConfigError,
    is_missing,
    no_download_config,
    redact,
    retry_conflicts,
    shared_connection,
)

DEFAULT_DUCKDB_PATH = "data/stripe.duckdb"
CATALOG = "warehouse"  # the name the file is attached under in every connection

LOADS_TABLE = "stripe_meta.loads"
# Parts of a partition too large to hold in memory wait as Parquet files beside the database
# (`<file>.staging/<resource>/...`, no lock needed) until the partition is decided and swapped in.
STAGING_MEMORY_LIMIT = "256MB"  # DuckDB's own memory while it swaps them in (it spills beyond)
# ... and they land in row groups of this many rows, not DuckDB's 122,880: DuckDB holds a whole row
# group of text to compress it (about 270 MB of `raw` JSON for charges), which was half the memory
# a swap of 1,000,000 charges took (640 MB over the process before; 360 MB in smaller groups).
STAGED_ROW_GROUP_SIZE = 16_384
# A load's write runs on one DuckDB thread: with a pool of one per core, inserting 10,000 charges
# and compressing them at commit cost twice the CPU (0.54 s against 0.26 s) for the same file,
# the pool's threads contending for a handful of row groups; the write overlaps the load's
# fetching anyway, so its wall-clock time is not what a load waits on.
WRITE_THREADS = 1
STALE_STAGING_SECONDS = 86_400  # staging left by a killed run is removed after this
HISTORY_SCHEMA = "stripe_history"
# Added to the rows a load displaces, so `rollback` can put them back exactly.
HISTORY_COLUMNS: dict[str, str] = {
    "_replaced_by_run": "VARCHAR",
    "_replaced_partition": "VARCHAR",
    "_replaced_at": "TIMESTAMPTZ",
}
LOADS_COLUMNS: dict[str, str] = {
    "resource": "VARCHAR",
    "partition": "VARCHAR",
    "window_start": "TIMESTAMPTZ",
    "window_end": "TIMESTAMPTZ",
    "run_id": "VARCHAR",
    "status": "VARCHAR",  # loaded | rejected
    "records_fetched": "BIGINT",
    "records_loaded": "BIGINT",
    "records_rejected": "BIGINT",
    "error_rate_pct": "DOUBLE",
    "threshold_pct": "DOUBLE",
    "loaded_at": "TIMESTAMPTZ",
    # How new what the load wrote is: when the window's first page was asked for (a change run:
    # its newest event in the partition). The fence compares it, not when the load landed.
    "observed_at": "TIMESTAMPTZ",
    "account_id": "VARCHAR",  # whose objects (null: loaded before accounts were tracked: the key's own)
}


class WarehouseError(RuntimeError):
    """A warehouse failure with a message that names the file and what to do."""


@dataclass(frozen=True)
class WindowWrite:
    """What one partition's load writes: its replacement rows (when accepted) and quarantine."""

    partition: str
    start: datetime
    end: datetime
    rows: pa.Table | None  # None: rejected (its rows stay as they were), or staged
    quarantine: pa.Table  # may be empty; replaces the partition's earlier quarantine rows
    load_record: dict
    # The staging folder holding this partition's rows and quarantine (`Warehouse.stage`), used
    # besides `rows` and `quarantine`; its rows land only when the partition was accepted.
    staged: str | None = None

    @property
    def accepted(self) -> bool:
        return self.load_record.get("status") == "loaded"

    # Stripe can delete these objects: rows of the window it no longer lists are kept, marked
    # deleted, and rows already marked keep their mark (see `deletions`).
    keeps_deleted: bool = False
    # Ids the API listed with a `created` outside the load's range (quarantined): the rows
    # they have stay as they are, wherever they are.
    kept_ids: frozenset[str] = frozenset()
    # When the window's fetch began (its first request): rows of the window it did not list that
    # are newer than this were written by a newer fetch and are kept (None: no such rows).
    observed_at: datetime | None = None
    # The column whose [start, end) the window replaces: a child's rows belong to the window of
    # their parent's `created` (`_parent_created`), not of their own.
    window_column: str = "created"
    # Whose objects these are (`account_id`): the write replaces only that account's rows of its
    # window and quarantine, so accounts land one by one (None: the table's every row, as before
    # accounts were tracked). `platform`: the key's own account, which rows written before
    # accounts were tracked (account_id null) belong to.
    account: str | None = None
    platform: str | None = None
    # Several accounts' rows at once (rows carrying their `account_id`): the write replaces the
    # rows of these accounts only.
    accounts: tuple[str, ...] | None = None

    @property
    def num_rows(self) -> int:
        return (self.rows.num_rows if self.rows is not None else 0) + self.quarantine.num_rows


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class WriteFence(Protocol):
    """Refuses a write (raising WarehouseError) when the warehouse changed under the run, and
    names the partitions a newer run holds (partition -> run id): their fetch is set aside."""

    def check(self, conn: duckdb.DuckDBPyConnection, writes: Sequence[WindowWrite]) -> dict[str, str]: ...


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc)
    return "Could not set lock" in text or "Conflicting lock" in text


class Warehouse:
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
        self._ensured: set[tuple] = set()  # table layouts already ensured by this instance

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
            conn = self._open(read_only, row_group_size)
            try:
                yield conn
            finally:
                conn.close()

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

    def _open(self, read_only: bool, row_group_size: int | None = None) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + self.lock_timeout_seconds
        delay = 0.05
        while True:
            conn = duckdb.connect(":memory:", config=no_download_config())
            try:
                # Opened as `stripe.duckdb`, the file's catalog would be called `stripe` and clash
                # with the `stripe` schema ("Ambiguous reference"): attach it under another name.
                if self.lake is not None:
                    self.lake.attach(conn, CATALOG, read_only=read_only)
                else:
                    path = str(self.path).replace("'", "''")
                    options = " (READ_ONLY)" if read_only else ""
                    if row_group_size is not None and not read_only:
                        options = f" (ROW_GROUP_SIZE {int(row_group_size)})"
                    conn.execute(f"ATTACH '{path}' AS {CATALOG}{options}")
                conn.execute(f"USE {CATALOG}")
                return conn
            except LakeConfigError as exc:
                conn.close()
                raise WarehouseError(str(exc)) from None
            except duckdb.Error as exc:
                conn.close()
                if not _is_lock_error(exc):
                    raise WarehouseError(f"cannot open: {redact(describe_warehouse_error(exc, self))}") from None
                if time.monotonic() > deadline:
                    raise WarehouseError(
                        f"the DuckDB file {self.path} stayed locked by another process for "
                        f"{self.lock_timeout_seconds:.0f}s: {exc}"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 1.0)

    # --- schema --------------------------------------------------------------------------

    @staticmethod
    def ensure_tables(
        conn: duckdb.DuckDBPyConnection,
        resource: str,
        columns: Sequence[ColumnSpec],
        quarantine_columns: dict[str, str],
    ) -> None:
        spec = get_resource(resource)
        for schema in ("stripe", "stripe_quarantine", "stripe_meta", HISTORY_SCHEMA):
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        table_columns = {c.name: c.type for c in columns} | SYSTEM_COLUMNS | ACCOUNT_COLUMNS
        quarantine_columns = quarantine_columns | ACCOUNT_COLUMNS
        _ensure_table(conn, spec.table, table_columns)
        _ensure_table(conn, spec.quarantine_table, quarantine_columns)
        _ensure_table(conn, history_table(resource), table_columns | HISTORY_COLUMNS)
        _ensure_table(conn, history_table(resource, quarantine=True), quarantine_columns | HISTORY_COLUMNS)
        _ensure_table(conn, LOADS_TABLE, LOADS_COLUMNS)
        _ensure_fence(conn, resource)

    # --- the load ------------------------------------------------------------------------

    def apply(
        self,
        resource: str,
        columns: Sequence[ColumnSpec],
        quarantine_columns: dict[str, str],
        writes: Sequence[WindowWrite],
        *,
        fence: WriteFence | None = None,
        before: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
        after: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    ) -> dict[str, str]:
        """Land every partition of one run in a single transaction (all or nothing).

        Accepted partitions replace exactly their window (and any row with the same id, so an
        id appears once); rejected ones keep their rows. Quarantine rows of every partition are
        replaced, so reruns never pile up stale ones. With a `fence` (see `fence.py`), nothing
        is written, not even a table created, when the warehouse moved past what the run saw.
        A DuckDB error reaches the caller as one line naming its cause. `before` writes first,
        in the same transaction (the changes applied from Stripe's events); `after` runs once it
        committed, in the same connection (no other writer in between, no turn of its own).
        Returns the partitions set aside because a newer run holds them (partition -> run id).
        """
        try:
            return self._apply(resource, columns, quarantine_columns, writes, fence, before, after)
        except duckdb.Error as exc:
            raise self._error(exc) from None

    def _error(self, exc: duckdb.Error) -> WarehouseError:
        return WarehouseError(redact(describe_warehouse_error(exc, self)))

    @retry_conflicts
    def _apply(
        self,
        resource: str,
        columns: Sequence[ColumnSpec],
        quarantine_columns: dict[str, str],
        writes: Sequence[WindowWrite],
        fence: WriteFence | None,
        before: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
        after: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    ) -> dict[str, str]:
        staged = any(write.staged is not None for write in writes)
        set_aside: dict[str, str] = {}
        with self.connect(row_group_size=STAGED_ROW_GROUP_SIZE if staged else None) as conn:
            if self.lake is None or not self.lake.shared:  # a connection of its own (see WRITE_THREADS)
                conn.execute(f"SET threads = {WRITE_THREADS}")
            if fence is not None:  # before any table is (re)created
                fence.check(conn, writes)
            layout = (resource, tuple(columns), tuple(quarantine_columns.items()))
            if layout not in self._ensured:  # a long load flushes many times: check the schema once
                self.ensure_tables(conn, resource, columns, quarantine_columns)
                self._ensured.add(layout)
            conn.execute("BEGIN TRANSACTION")
            try:
                if fence is not None:  # again in the transaction: what commits is what was checked
                    set_aside = fence.check(conn, writes)
                landing = [write for write in writes if write.partition not in set_aside]
                _claim(conn, resource, landing or writes)
                adopt_rows(conn, resource, {w.platform for w in writes if w.platform is not None})
                if before is not None:
                    before(conn)
                for write in landing:
                    self._write_window(conn, resource, write)
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise
            if after is not None:
                try:
                    after(conn)
                except duckdb.Error as exc:  # committed: never a conflict to write everything again over
                    raise self._error(exc) from None
        for write in writes:  # landed or set aside: the staged parts are no longer needed
            if write.staged is not None:
                shutil.rmtree(write.staged, ignore_errors=True)
        return set_aside

    def staging_dir(self, resource: str, run_id: str, partition: str) -> Path:
        """Where one partition's parts wait: stamped with its creation time, so that what a
        killed run left can be removed later."""
        token = hashlib.sha256(f"{run_id}\n{partition}".encode()).hexdigest()[:16]
        return self.path.with_name(self.path.name + ".staging") / resource / f"{int(time.time())}_{token}"

    @staticmethod
    def stage(folder: str | os.PathLike, part: int, rows: pa.Table | None, quarantine: pa.Table) -> None:
        """Keep one validated part of a partition until the partition is decided (no lock:
        the folder belongs to this load)."""
        folder = Path(folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if rows is not None and rows.num_rows:
                pq.write_table(rows, folder / f"rows-{part:06d}.parquet", compression="lz4")
            if quarantine.num_rows:
                pq.write_table(quarantine, folder / f"quarantine-{part:06d}.parquet", compression="lz4")
        except OSError as exc:
            raise WarehouseError(describe_staging_error(exc, folder)) from None

    def drop_stale_staging(self, resource: str, *, now: float | None = None) -> None:
        """Remove the staged parts of `resource` left behind by runs killed long ago."""
        root = self.path.with_name(self.path.name + ".staging") / resource
        if not root.is_dir():
            return
        cutoff = (now if now is not None else time.time()) - STALE_STAGING_SECONDS
        for folder in root.iterdir():
            created = folder.name.split("_", 1)[0]
            if created.isdigit() and int(created) < cutoff:
                shutil.rmtree(folder, ignore_errors=True)

    @staticmethod
    def _write_window(conn, resource: str, write: WindowWrite) -> None:
        spec = get_resource(resource)
        table, quarantine_table = spec.table, spec.quarantine_table
        run_id = write.load_record["run_id"]
        source = None
        staged_rows = _staged(write.staged, "rows")
        staged_quarantine = _staged(write.staged, "quarantine")
        if write.rows is not None:
            conn.register("_batch", write.rows)
            source = "_batch"
        elif staged_rows is not None and write.accepted:
            conn.execute(f"SET memory_limit = '{STAGING_MEMORY_LIMIT}'")
            source = f"read_parquet({staged_rows})"
            repeated = conn.execute(f"SELECT count(*) - count(DISTINCT id) FROM {source}").fetchone()
            if repeated and repeated[0]:  # an API that listed an object twice: keep its first copy
                source = _first_copies(conn, staged_rows)
        scope = write.accounts if write.accounts is not None else write.account
        account = account_filter(scope)
        if source is not None:
            column = write.window_column
            if write.account is not None:  # the rows carry the account they were read for
                source = f"(SELECT *, {_sql_text(write.account)} AS {ACCOUNT_COLUMN} FROM {source})"
            try:
                # Rows newer than what this write brings stay as they are (another run's newer
                # fetch or change): only the rest of the window is replaced.
                conn.execute(
                    f"""CREATE OR REPLACE TEMP TABLE _newer AS SELECT t.id FROM {table} t
                        LEFT JOIN (SELECT id, _observed_at FROM {source}) s ON s.id = t.id
                        WHERE ((t.{column} >= ? AND t.{column} < ?) OR s.id IS NOT NULL)
                          AND t._observed_at > coalesce(s._observed_at, ?::TIMESTAMPTZ)
                          AND {account_filter(scope, "t")}""",
                    [write.start, write.end, write.observed_at],
                )
                newer = conn.execute("SELECT count(*) FROM _newer").fetchone()
                # (Usually none: then the plain statements, whose memory does not follow the rows.)
                keep = " AND id NOT IN (SELECT id FROM _newer)" if newer and newer[0] else ""
                in_window = f"({column} >= ? AND {column} < ?) OR id IN (SELECT id FROM {source})"
                if write.kept_ids:
                    kept = ", ".join(map(_sql_text, sorted(write.kept_ids)))
                    # Ids listed outside their window (quarantined) keep their rows, unless this
                    # write lands the id anew (listed again, inside its window).
                    in_window = f"({in_window}) AND (id NOT IN ({kept}) OR id IN (SELECT id FROM {source}))"
                in_window = f"({in_window}){keep} AND {account}"
                conn.execute(
                    f"INSERT INTO {history_table(resource)} BY NAME SELECT *, {_DISPLACED} "
                    f"FROM {table} WHERE {in_window}",
                    [run_id, write.partition, write.start, write.end],
                )
                if write.keeps_deleted:
                    window = [write.start, write.end]
                    hold_deleted(
                        conn, table, in_window, window,
                        source=source, rejected=write.quarantine, staged_rejected=staged_quarantine,
                    )  # fmt: skip
                conn.execute(f"DELETE FROM {table} WHERE {in_window}", [write.start, write.end])
                conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {source} WHERE true{keep}")
                if write.keeps_deleted:
                    restore_deleted(conn, table, run_id=run_id, partition=write.partition, at=datetime.now(UTC))
                conn.execute("DROP TABLE _newer")
            finally:
                if write.rows is not None:
                    _quietly(conn.unregister, "_batch")  # on an aborted transaction it raises too
        conn.execute(
            f"INSERT INTO {history_table(resource, quarantine=True)} BY NAME SELECT *, {_DISPLACED} "
            f"FROM {quarantine_table} WHERE _partition = ? AND {account}",
            [run_id, write.partition, write.partition],
        )
        conn.execute(f"DELETE FROM {quarantine_table} WHERE _partition = ? AND {account}", [write.partition])
        stamp = "" if write.account is None else f", {_sql_text(write.account)} AS {ACCOUNT_COLUMN}"
        if staged_quarantine is not None:
            conn.execute(
                f"INSERT INTO {quarantine_table} BY NAME SELECT *{stamp} FROM read_parquet({staged_quarantine})"
            )
        if write.quarantine.num_rows:
            conn.register("_quarantine", write.quarantine)
            try:
                conn.execute(f"INSERT INTO {quarantine_table} BY NAME SELECT *{stamp} FROM _quarantine")
            finally:
                _quietly(conn.unregister, "_quarantine")
        record = {**write.load_record, "loaded_at": _commit_stamp(conn, resource), "observed_at": write.observed_at}
        if write.account is not None:
            record[ACCOUNT_COLUMN] = write.account
        names = list(record)
        conn.execute(
            f"INSERT INTO {LOADS_TABLE} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
            [record[n] for n in names],
        )


def _commit_stamp(conn: duckdb.DuckDBPyConnection, resource: str) -> datetime:
    """When a load of `resource` landed, in the order loads commit: now, but never before the
    resource's newest record. Writers on several machines have clocks that disagree; one stamped
    ahead must not make a later load look older to the fence and to rollback. (Writes of one
    resource take turns: the file's lock, or the lake's conflict on the fence row.)"""
    now = datetime.now(UTC)
    row = conn.execute(f"SELECT max(loaded_at) FROM {LOADS_TABLE} WHERE resource = ?", [resource]).fetchone()
    newest = row[0] if row else None
    return max(now, newest + timedelta(microseconds=1)) if newest is not None else now


def _first_copies(conn: duckdb.DuckDBPyConnection, files: str) -> str:
    """The staged rows with only the first staged copy of each id. Only the repeated ids are
    ranked, on narrow columns, and the later copies are left out by a plain filter: ranking or
    joining whole rows would hold every row's `raw` in memory at once."""
    scan = f"read_parquet({files}, filename = true, file_row_number = true)"
    later = conn.execute(
        f"SELECT filename, list(file_row_number) FROM (SELECT filename, file_row_number, row_number() OVER "
        f"(PARTITION BY id ORDER BY filename, file_row_number) AS copy FROM {scan} "
        f"WHERE id IN (SELECT id FROM {scan} GROUP BY id HAVING count(*) > 1)) WHERE copy > 1 GROUP BY filename"
    ).fetchall()
    copies = " OR ".join(
        f"(filename = {_sql_text(name)} AND list_contains({[int(n) for n in rows]}, file_row_number))"
        for name, rows in later
    )
    return f"(SELECT * EXCLUDE (filename, file_row_number) FROM {scan} WHERE NOT ({copies or 'false'}))"


def _staged(folder: str | None, kind: str) -> str | None:
    """The SQL glob of a staging folder's `kind` files, or None when it holds none."""
    if folder is None or not any(Path(folder).glob(f"{kind}-*.parquet")):
        return None
    return _sql_text(str(Path(folder) / f"{kind}-*.parquet"))


_DISPLACED = "? AS _replaced_by_run, ? AS _replaced_partition, now() AS _replaced_at"


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


def _quietly(action: Callable[..., object], *args: object) -> None:
    """Clean up after a failure without replacing it by the cleanup's own error."""
    with contextlib.suppress(duckdb.Error):
        action(*args)


def _rollback(conn: duckdb.DuckDBPyConnection) -> None:
    """Roll back, unless the failed statement was the COMMIT: it already ended the transaction
    (a DuckLake conflict), and the original error must surface, not "no transaction is active"."""
    try:
        conn.execute("ROLLBACK")
    except duckdb.TransactionException as exc:
        if "no transaction is active" not in str(exc):
            raise


def fence_table(resource: str) -> str:
    """One row per resource that every write of the resource updates in its transaction."""
    return f"stripe_meta.fence_{resource}"


def _ensure_fence(conn: duckdb.DuckDBPyConnection, resource: str) -> None:
    table = fence_table(resource)
    _ensure_table(conn, table, {"run_id": "VARCHAR", "partitions": "VARCHAR", "written_at": "TIMESTAMPTZ"})
    conn.execute(f"INSERT INTO {table} SELECT NULL, NULL, now() WHERE NOT EXISTS (SELECT 1 FROM {table})")


def _claim(conn: duckdb.DuckDBPyConnection, resource: str, writes: Sequence[WindowWrite]) -> None:
    """Make concurrent writes of one resource conflict. DuckLake checks commits optimistically
    but sees no conflict between two transactions that only insert (the first loads of a window):
    both would land, and rows would double. Both updating the fence row, the later commit fails
    and `retry_conflicts` runs it again on the committed state, replacing the window whole.
    (On the DuckDB file writers already take turns; the update costs nothing there.)"""
    run_ids = sorted({w.load_record["run_id"] for w in writes})
    conn.execute(
        f"UPDATE {fence_table(resource)} SET run_id = ?, partitions = ?, written_at = now()",
        [",".join(run_ids), ",".join(w.partition for w in writes)],
    )


def adopt_rows(conn: duckdb.DuckDBPyConnection, resource: str, platforms: set[str]) -> None:
    """Rows written before accounts were tracked are the key's own account's (`platform`)."""
    if len(platforms) != 1:
        return
    (platform,) = platforms
    spec = get_resource(resource)
    for table in (spec.table, spec.quarantine_table, history_table(resource), history_table(resource, quarantine=True)):
        if ACCOUNT_COLUMN in table_columns(conn, table):
            conn.execute(f"UPDATE {table} SET {ACCOUNT_COLUMN} = ? WHERE {ACCOUNT_COLUMN} IS NULL", [platform])


def history_table(resource: str, *, quarantine: bool = False) -> str:
    """Where the rows displaced by each load are kept, for rollback."""
    return f"{HISTORY_SCHEMA}.{resource}{'_quarantine' if quarantine else ''}"


def table_columns(conn: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    """The names of `table`'s columns (empty: no such table)."""
    schema, name = table.split(".")
    sql = "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?"
    return {str(row[0]) for row in conn.execute(sql, [schema, name]).fetchall()}


def _ensure_table(conn: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str]) -> None:
    """Create the table, or add the columns a changed mapping introduced (old ones are kept)."""
    existing = table_columns(conn, table)
    if not existing:
        body = ", ".join(f'"{c}" {t}' for c, t in columns.items())
        conn.execute(f"CREATE TABLE IF NOT EXISTS {table} ({body})")
        return
    for column, type_ in columns.items():
        if column not in existing:
            conn.execute(f'ALTER TABLE {table} ADD COLUMN "{column}" {type_}')
