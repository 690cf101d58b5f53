"""Where each resource's change cursor is kept: `stripe_meta.change_cursors`, one row per run.

The cursor is the newest Event (id and `created`) whose changes the warehouse holds. A row is
appended in the same transaction as the rows it accounts for, so the cursor never runs ahead of
the data; the newest row (by when its events were read) is the current cursor. Rolling back a
run removes the cursor rows from that run on, so the changes it applied are read again by the
next load instead of being lost: rows of runs that read their events later, and rows that landed
later (a run that read its events earlier but landed after it may have left those changes to it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import duckdb

from stripe_assets.ingest.warehouse.loads import table_exists
from stripe_assets.ingest.warehouse.tables import table_columns

CURSORS_TABLE = "stripe_meta.change_cursors"

# How the cursor was set: by reading events, or fresh (first load, or after re-reading partitions).
FROM_EVENTS = "events"
FRESH = "fresh"


@dataclass(frozen=True)
class Cursor:
    """The newest Event the warehouse accounts for; no event id: none existed when it was set."""

    event_id: str | None
    event_created: int | None  # Unix seconds of that event
    recorded_at: datetime  # when a load last confirmed the warehouse up to this event
    run_id: str | None = None
    source: str = FROM_EVENTS


def ensure_cursor_table(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute("CREATE SCHEMA IF NOT EXISTS stripe_meta")
    conn.execute(
        f"""CREATE TABLE IF NOT EXISTS {CURSORS_TABLE} (
            resource VARCHAR, run_id VARCHAR, event_id VARCHAR, event_created BIGINT,
            recorded_at TIMESTAMPTZ, source VARCHAR, landed_at TIMESTAMPTZ)"""
    )
    # A table from before: its rows landed when they were read.
    existing = table_columns(conn, CURSORS_TABLE)
    if "landed_at" not in existing:
        conn.execute(f"ALTER TABLE {CURSORS_TABLE} ADD COLUMN landed_at TIMESTAMPTZ")
    # One cursor per connected account (null: the key's own account, as before Connect).
    if "account_id" not in existing:
        conn.execute(f"ALTER TABLE {CURSORS_TABLE} ADD COLUMN account_id VARCHAR")


def current_cursor(conn: duckdb.DuckDBPyConnection, resource: str, account: str | None = None) -> Cursor | None:
    """The cursor in effect for `resource` (of a connected `account`), or None before its first load."""
    if not table_exists(conn, CURSORS_TABLE):
        return None
    if "account_id" not in table_columns(conn, CURSORS_TABLE):
        if account is not None:
            return None
        where = "resource = ?"
        params: list = [resource]
    else:
        where = "resource = ? AND account_id IS NOT DISTINCT FROM ?"
        params = [resource, account]
    row = conn.execute(
        f"""SELECT event_id, event_created, recorded_at, run_id, source FROM {CURSORS_TABLE}
            WHERE {where} ORDER BY recorded_at DESC LIMIT 1""",
        params,
    ).fetchone()
    return Cursor(*row) if row else None


def record_cursor(conn: duckdb.DuckDBPyConnection, resource: str, cursor: Cursor, account: str | None = None) -> None:
    """Append `cursor` as the current one (call inside the load's transaction)."""
    ensure_cursor_table(conn)
    conn.execute(
        f"""INSERT INTO {CURSORS_TABLE}
                (resource, run_id, event_id, event_created, recorded_at, source, landed_at, account_id)
            VALUES (?, ?, ?, ?, ?, ?, now(), ?)""",
        [resource, cursor.run_id, cursor.event_id, cursor.event_created, cursor.recorded_at, cursor.source, account],
    )


def rewind_cursor(conn: duckdb.DuckDBPyConnection, resource: str, run_ids: Iterable[str]) -> int:
    """Forget the cursors set by `run_ids` and by every later run (that read its events later, or
    landed later): what they applied is read again (applying a change twice is harmless, missing
    one is not). Returns rows removed."""
    runs = list(run_ids)
    if not runs or not table_exists(conn, CURSORS_TABLE):
        return 0
    ensure_cursor_table(conn)
    marks = ", ".join("?" * len(runs))
    landed = "coalesce(landed_at, recorded_at)"
    row = conn.execute(
        f"""WITH undone AS (
                SELECT min(recorded_at) AS read_at, min({landed}) AS landed FROM {CURSORS_TABLE}
                WHERE resource = ? AND run_id IN ({marks}))
            DELETE FROM {CURSORS_TABLE} WHERE resource = ?
              AND (recorded_at >= (SELECT read_at FROM undone) OR {landed} >= (SELECT landed FROM undone))""",
        [resource, *runs, resource],
    ).fetchone()
    return int(row[0]) if row else 0
