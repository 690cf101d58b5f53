"""Rows of deleted objects survive the reload of their window, and keep their `_deleted_at`.

Stripe stops listing some objects once deleted (customers), so a window's fresh list lacks
them. For resources Stripe can delete, reloading a window keeps such rows, marked: rows already
marked deleted, and rows no longer listed at all (a deletion whose event was not read).
They are written again under the reloading run, so its rollback restores them exactly. An id
listed again keeps the mark it had.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pyarrow as pa


def hold_deleted(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    in_window: str,
    params: list,
    *,
    source: str,
    rejected: pa.Table,
    staged_rejected: str | None = None,
) -> None:
    """Before the window's rows are deleted: remember the rows to keep (`_kept`) and the marks
    of ids listed again (`_marks`). `in_window` selects the window's rows (with `params`),
    `source` the load's new rows; `rejected` (and the staged quarantine files `staged_rejected`)
    hold its quarantine rows: listed, so not deleted."""
    conn.register("_rejected", rejected.select(["id"]))
    rejected_ids = "SELECT id FROM _rejected"
    if staged_rejected is not None:
        rejected_ids += f" UNION ALL SELECT id FROM read_parquet({staged_rejected})"
    try:
        conn.execute(
            f"""CREATE OR REPLACE TEMP TABLE _kept AS SELECT * FROM {table}
                WHERE ({in_window}) AND id NOT IN (SELECT id FROM {source})
                  AND (_deleted_at IS NOT NULL OR id NOT IN ({rejected_ids}))""",
            params,
        )
    finally:
        conn.unregister("_rejected")
    conn.execute(
        f"""CREATE OR REPLACE TEMP TABLE _marks AS SELECT id, _deleted_at FROM {table}
            WHERE ({in_window}) AND _deleted_at IS NOT NULL AND id IN (SELECT id FROM {source})""",
        params,
    )


def restore_deleted(conn: duckdb.DuckDBPyConnection, table: str, *, run_id: str, partition: str, at: datetime) -> int:
    """After the window's new rows are in: put the kept rows back under this load and re-mark
    ids listed again. Returns the rows kept."""
    conn.execute(
        f"""UPDATE {table} SET _deleted_at = m._deleted_at FROM _marks m
            WHERE {table}.id = m.id AND {table}._deleted_at IS NULL"""
    )
    kept = conn.execute(
        f"""INSERT INTO {table} BY NAME SELECT * REPLACE (
                ?::VARCHAR AS _run_id, ?::VARCHAR AS _partition, ?::TIMESTAMPTZ AS _loaded_at,
                coalesce(_deleted_at, ?::TIMESTAMPTZ) AS _deleted_at)
            FROM _kept""",
        [run_id, partition, at, at],
    ).fetchone()
    conn.execute("DROP TABLE _kept")
    conn.execute("DROP TABLE _marks")
    return int(kept[0]) if kept else 0
