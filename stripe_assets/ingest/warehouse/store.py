"""The DuckDB warehouse: the one transaction that lands a load (every partition of a run, or none).

Where it is and how it is opened: `connection`; the tables: `tables`; one partition's write:
`windows`; parts of a large partition waiting on disk: `staging`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import duckdb
import pyarrow as pa

from stripe_assets.catalog import StripeResource
from stripe_assets.ingest.columns import ColumnSpec
from stripe_assets.ingest.warehouse import staging, tables
from stripe_assets.ingest.warehouse.connection import DEFAULT_DUCKDB_PATH, WarehouseConnections
from stripe_assets.ingest.warehouse.errors import WarehouseError, describe_warehouse_error
from stripe_assets.ingest.warehouse.lake import Lake, redact, retry_conflicts
from stripe_assets.ingest.warehouse.tables import adopt_rows, claim
from stripe_assets.ingest.warehouse.windows import WindowWrite, write_window

# Staged partitions land in row groups of this many rows, not DuckDB's 122,880: DuckDB holds a whole row
# group of text to compress it (about 270 MB of `raw` JSON for charges), which was half the memory
# a swap of 1,000,000 charges took (640 MB over the process before; 360 MB in smaller groups).
STAGED_ROW_GROUP_SIZE = 16_384
# Other writes land in row groups of 8,192 rows: once a transaction fills one, DuckDB writes its row
# groups straight to the file, compressed (its optimistic writes), and the rest at commit. Without a
# full one, every row goes to the write-ahead log at commit and is compressed again by the
# checkpoint on close. A load of 10,000 invoices lands in 0.27 s of CPU instead of 0.35 s, for a file 5 % larger.
ROW_GROUP_SIZE = 8_192
# A load's write runs on one DuckDB thread: with a pool of one per core, inserting 10,000 charges
# and compressing them at commit cost twice the CPU (0.54 s against 0.26 s) for the same file,
# the pool's threads contending for a handful of row groups; the write overlaps the load's
# fetching anyway, so its wall-clock time is not what a load waits on.
WRITE_THREADS = 1


class WriteFence(Protocol):
    """Refuses a write (raising WarehouseError) when the warehouse changed under the run, and
    names the partitions a newer run holds (partition -> run id): their fetch is set aside."""

    def check(self, conn: duckdb.DuckDBPyConnection, writes: Sequence[WindowWrite]) -> dict[str, str]: ...


class Warehouse(WarehouseConnections):
    def __init__(
        self,
        path: str | os.PathLike = DEFAULT_DUCKDB_PATH,
        *,
        lock_timeout_seconds: float = 600.0,
        lake: Lake | None = None,  # the DuckLake backend (lake.py); None: the DuckDB file at `path`
    ):
        super().__init__(path, lock_timeout_seconds=lock_timeout_seconds, lake=lake)
        self._ensured: set[tuple] = set()  # table layouts already ensured by this instance

    ensure_tables = staticmethod(tables.ensure_tables)

    # --- the load ------------------------------------------------------------------------

    def apply(
        self,
        spec: StripeResource,
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
            return self._apply(spec, columns, quarantine_columns, writes, fence, before, after)
        except duckdb.Error as exc:
            raise self._error(exc) from None

    def _error(self, exc: duckdb.Error) -> WarehouseError:
        return WarehouseError(redact(describe_warehouse_error(exc, self)))

    @retry_conflicts
    def _apply(
        self,
        spec: StripeResource,
        columns: Sequence[ColumnSpec],
        quarantine_columns: dict[str, str],
        writes: Sequence[WindowWrite],
        fence: WriteFence | None,
        before: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
        after: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    ) -> dict[str, str]:
        staged = any(write.staged is not None for write in writes)
        set_aside: dict[str, str] = {}
        with self.connect(row_group_size=STAGED_ROW_GROUP_SIZE if staged else ROW_GROUP_SIZE) as conn:
            if self.lake is None or not self.lake.shared:  # a connection of its own (see WRITE_THREADS)
                conn.execute(f"SET threads = {WRITE_THREADS}")
            if fence is not None:  # before any table is (re)created
                fence.check(conn, writes)
            layout = (spec.name, tuple(columns), tuple(quarantine_columns.items()))
            if layout not in self._ensured:  # a long load flushes many times: check the schema once
                self.ensure_tables(conn, spec, columns, quarantine_columns)
                self._ensured.add(layout)
            conn.execute("BEGIN TRANSACTION")
            try:
                if fence is not None:  # again in the transaction: what commits is what was checked
                    set_aside = fence.check(conn, writes)
                landing = [write for write in writes if write.partition not in set_aside]
                claim(conn, spec.name, landing or writes)
                adopt_rows(conn, spec, {w.platform for w in writes if w.platform is not None})
                if before is not None:
                    before(conn)
                for write in landing:
                    write_window(conn, spec, write)
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
        """Where one partition's parts wait (see `staging`)."""
        return staging.staging_dir(self.path, resource, run_id, partition)

    @staticmethod
    def stage(folder: str | os.PathLike, part: int, rows: pa.Table | None, quarantine: pa.Table) -> None:
        staging.stage(folder, part, rows, quarantine)

    def drop_stale_staging(self, resource: str, *, now: float | None = None) -> None:
        staging.drop_stale_staging(self.path, resource, now=now)


def _rollback(conn: duckdb.DuckDBPyConnection) -> None:
    """Roll back, unless the failed statement was the COMMIT: it already ended the transaction
    (a DuckLake conflict), and the original error must surface, not "no transaction is active"."""
    try:
        conn.execute("ROLLBACK")
    except duckdb.TransactionException as exc:
        if "no transaction is active" not in str(exc):
            raise
