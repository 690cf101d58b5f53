"""One partition's write: its window's rows replaced (the displaced ones kept for rollback), its
quarantine replaced, and its line in the load log."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb
import pyarrow as pa

from stripe_assets.catalog import StripeResource
from stripe_assets.ingest.keys import ACCOUNT_COLUMN, account_filter
from stripe_assets.ingest.warehouse.deletions import hold_deleted, restore_deleted
from stripe_assets.ingest.warehouse.staging import sql_text, staged_files
from stripe_assets.ingest.warehouse.tables import LOADS_TABLE, history_table, instant

# DuckDB's own memory while it swaps a staged partition in (it spills beyond).
STAGING_MEMORY_LIMIT = "256MB"


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


def write_window(conn: duckdb.DuckDBPyConnection, spec: StripeResource, write: WindowWrite) -> None:
    resource = spec.name
    table, quarantine_table = spec.table, spec.quarantine_table
    run_id = write.load_record["run_id"]
    source = None
    staged_rows = staged_files(write.staged, "rows")
    staged_quarantine = staged_files(write.staged, "quarantine")
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
            source = f"(SELECT *, {sql_text(write.account)} AS {ACCOUNT_COLUMN} FROM {source})"
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
                kept = ", ".join(map(sql_text, sorted(write.kept_ids)))
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
    stamp = "" if write.account is None else f", {sql_text(write.account)} AS {ACCOUNT_COLUMN}"
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
    newest = instant(conn, f"SELECT max(loaded_at) FROM {LOADS_TABLE} WHERE resource = ?", [resource])
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
        f"(filename = {sql_text(name)} AND list_contains({[int(n) for n in rows]}, file_row_number))"
        for name, rows in later
    )
    return f"(SELECT * EXCLUDE (filename, file_row_number) FROM {scan} WHERE NOT ({copies or 'false'}))"


_DISPLACED = "? AS _replaced_by_run, ? AS _replaced_partition, now() AS _replaced_at"


def _quietly(action: Callable[..., object], *args: object) -> None:
    """Clean up after a failure without replacing it by the cleanup's own error."""
    with contextlib.suppress(duckdb.Error):
        action(*args)
