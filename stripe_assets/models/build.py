"""Building a model's table and running its checks, in short transactions on the warehouse."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from stripe_assets.models.catalog import SCHEMA, Model, ModelCheck

SAMPLE_ROWS = 10


class MissingInputs(RuntimeError):
    """The model reads a table that is not in the warehouse yet (its resource was never loaded)."""


@dataclass(frozen=True)
class CheckOutcome:
    check: ModelCheck
    violations: int
    sample: list[dict[str, Any]]

    @property
    def passed(self) -> bool:
        return self.violations == 0


def _tables(conn: duckdb.DuckDBPyConnection) -> set[str]:
    rows = conn.execute("SELECT table_schema || '.' || table_name FROM information_schema.tables").fetchall()
    return {name for (name,) in rows}


def missing_inputs(conn: duckdb.DuckDBPyConnection, model: Model) -> list[str]:
    present = _tables(conn)
    return [table for table in model.input_tables if table not in present]


def build_model(conn: duckdb.DuckDBPyConnection, model: Model) -> int:
    """Replaces `stripe_models.<name>` with the model's rows, in one transaction; returns the rows."""
    missing = missing_inputs(conn, model)
    if missing:
        raise MissingInputs(f"{model.name} reads {', '.join(missing)}, not loaded yet: load it first")
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute(f"DROP TABLE IF EXISTS {model.table}")
        conn.execute(f"CREATE TABLE {model.table} AS {model.sql()}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    row = conn.execute(f"SELECT count(*) FROM {model.table}").fetchone()
    return int(row[0]) if row else 0


def column_types(conn: duckdb.DuckDBPyConnection, model: Model) -> dict[str, str]:
    """The built table's column types, as DuckDB names them (DATE, BIGINT, ...)."""
    cursor = conn.execute(f"DESCRIBE {model.table}")
    return {str(row[0]): str(row[1]) for row in cursor.fetchall()}


def run_checks(conn: duckdb.DuckDBPyConnection, model: Model) -> list[CheckOutcome]:
    outcomes = []
    for check in model.checks:
        cursor = conn.execute(f"SELECT * FROM ({check.sql}) AS broken")
        names = [d[0] for d in cursor.description or ()]
        rows = cursor.fetchall()
        sample = [{n: _plain(v) for n, v in zip(names, row, strict=True)} for row in rows[:SAMPLE_ROWS]]
        outcomes.append(CheckOutcome(check, len(rows), sample))
    return outcomes


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, bool | int | float | str) else str(value)
