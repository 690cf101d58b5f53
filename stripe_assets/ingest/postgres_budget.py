"""A request budget shared through Postgres, so runs on different machines stay under Stripe's
limits together (the limiter's file store only spans one machine).

The limiter's `BudgetStore` interface: `transaction()` yields the budget's state, a dict, for one
atomic read-modify-write. Here the state is a JSON row of `stripe_assets_budgets`, locked with
`SELECT ... FOR UPDATE` for the length of the transaction (a few milliseconds): concurrent
reservations from any process on any machine take turns on it. The row is named by the
limiter's hash of the key, never the key itself. Times come from the database server's clock,
the one clock every machine sharing the row agrees on.

The connection settings reach libpq as keyword parameters, never as a URL: Dagster's storage URL
leaves a `/` of the password unescaped, which libpq would read as the end of the host.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import psycopg2
import psycopg2.errors
from psycopg2.extras import Json

TABLE = "stripe_assets_budgets"


class PostgresSettingsError(ValueError):
    """A storage URL that names no database; the message never quotes its password."""


def connection_params(url: str) -> dict[str, str]:
    """libpq keyword parameters from a SQLAlchemy URL as Dagster builds it
    (`postgresql+psycopg2://user:password@host:port/db?params`, user and password %-quoted
    except for `/`). The last `@` ends the credentials: quoting turned any earlier one into %40."""
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme.startswith("postgres"):
        raise PostgresSettingsError("the instance's storage is not a postgresql:// URL")
    credentials, at, location = rest.rpartition("@")
    parts = urlsplit(f"postgresql://{location}")
    params: dict[str, str] = {}
    if at:
        user, colon, password = credentials.partition(":")
        params["user"] = unquote(user)
        if colon:
            params["password"] = unquote(password)
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise PostgresSettingsError("the instance's storage URL has a port that is not a number") from None
    if host:
        params["host"] = unquote(host)
    if port:
        params["port"] = str(port)
    if parts.path.strip("/"):
        params["dbname"] = unquote(parts.path.lstrip("/"))
    params.update(parse_qsl(parts.query))
    return params


class PostgresBudgetStore:
    def __init__(self, url: str, name: str, *, connect_timeout: int = 10):
        self.params = connection_params(url)
        self.name = name
        self.connect_timeout = connect_timeout
        self._now: float | None = None  # the server's time, read with the state
        self._conn: Any = None
        self._pid: int | None = None
        self._threads = threading.Lock()  # one connection per process: its threads take turns

    def _connection(self) -> Any:
        if self._conn is not None and not self._conn.closed and self._pid == os.getpid():
            return self._conn
        conn = psycopg2.connect(**self.params, connect_timeout=self.connect_timeout)
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
                    cur.execute(
                        f"SELECT state, extract(epoch FROM clock_timestamp())::float8 FROM {TABLE} "
                        "WHERE name = %s FOR UPDATE",
                        [self.name],
                    )
                    row = cur.fetchone()
                    state: dict[str, float] = dict(row[0]) if row and isinstance(row[0], dict) else {}
                    self._now = float(row[1]) if row else None
                    before = dict(state)
                    yield state
                    if state != before:
                        cur.execute(f"UPDATE {TABLE} SET state = %s WHERE name = %s", [Json(state), self.name])
            except psycopg2.OperationalError:
                self._conn = None  # the server went away: connect afresh next time
                raise

    def clock(self) -> float:
        """Now on the server's clock (read with the state in `transaction`)."""
        return self._now if self._now is not None else time.time()

    def close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None
