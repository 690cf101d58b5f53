"""A request budget shared through Postgres, so runs on different machines stay under Stripe's
limits together (the limiter's file store only spans one machine).

The limiter's `BudgetStore` interface: `transaction()` yields the budget's state, a dict, for one
atomic read-modify-write. Here the state is a JSON row of `stripe_assets_budgets`, locked with
`SELECT ... FOR UPDATE` for the length of the transaction (a few milliseconds): concurrent
reservations from any process on any machine take turns on it. The row is named by the
limiter's hash of the key, never the key itself.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import Any

import psycopg2
import psycopg2.errors
from psycopg2.extras import Json

TABLE = "stripe_assets_budgets"


def psycopg2_dsn(url: str) -> str:
    """A SQLAlchemy URL (`postgresql+psycopg2://...`, as Dagster's storage has it) for psycopg2."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+')[0]}{sep}{rest}" if sep else url


class PostgresBudgetStore:
    def __init__(self, dsn: str, name: str, *, connect_timeout: int = 10):
        self.dsn = psycopg2_dsn(dsn)
        self.name = name
        self.connect_timeout = connect_timeout
        self._conn: Any = None
        self._pid: int | None = None
        self._threads = threading.Lock()  # one connection per process: its threads take turns

    def _connection(self) -> Any:
        if self._conn is not None and not self._conn.closed and self._pid == os.getpid():
            return self._conn
        conn = psycopg2.connect(self.dsn, connect_timeout=self.connect_timeout)
        try:
            with conn, conn.cursor() as cur:
                cur.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (name TEXT PRIMARY KEY, state JSONB NOT NULL)")
        except (psycopg2.errors.UniqueViolation, psycopg2.errors.DuplicateTable, psycopg2.errors.DuplicateObject):
            pass  # another process created it at the same moment
        with conn, conn.cursor() as cur:
            cur.execute(
                f"INSERT INTO {TABLE} (name, state) VALUES (%s, '{{}}') ON CONFLICT (name) DO NOTHING", [self.name]
            )
        self._conn, self._pid = conn, os.getpid()
        return conn

    @contextlib.contextmanager
    def transaction(self) -> Iterator[dict[str, float]]:
        with self._threads:
            conn = self._connection()
            try:
                with conn, conn.cursor() as cur:  # commits on leaving, rolls back on an error
                    cur.execute(f"SELECT state FROM {TABLE} WHERE name = %s FOR UPDATE", [self.name])
                    row = cur.fetchone()
                    state: dict[str, float] = dict(row[0]) if row and isinstance(row[0], dict) else {}
                    before = dict(state)
                    yield state
                    if state != before:
                        cur.execute(f"UPDATE {TABLE} SET state = %s WHERE name = %s", [Json(state), self.name])
            except psycopg2.OperationalError:
                self._conn = None  # the server went away: connect afresh next time
                raise

    def close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None
