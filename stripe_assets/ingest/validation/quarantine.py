"""Quarantine rows: one per failure, with the reason and the full raw record, for
`stripe_quarantine.<resource>`. A record with three failures gives three rows sharing its `raw`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import orjson
import pyarrow as pa

from stripe_assets.ingest.validation.validate import ValidationResult

# Column name -> DuckDB type, in table order.
QUARANTINE_COLUMNS: dict[str, str] = {
    "id": "VARCHAR",
    "_partition": "VARCHAR",
    "_run_id": "VARCHAR",
    "check_name": "VARCHAR",
    "column_name": "VARCHAR",
    "reason": "VARCHAR",
    "value": "VARCHAR",
    "raw": "JSON",
    "_quarantined_at": "TIMESTAMPTZ",
}

_ARROW_SCHEMA = pa.schema(
    [
        pa.field(name, pa.timestamp("us", tz="UTC") if duck == "TIMESTAMPTZ" else pa.string())
        for name, duck in QUARANTINE_COLUMNS.items()  # JSON travels as text; DuckDB casts it
    ]
)


def _raw_json(record: object) -> str:
    return orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS, default=repr).decode()


def quarantine_rows(
    result: ValidationResult,
    *,
    partition_key: str,
    run_id: str,
    partition_of: Callable[[dict], str] | None = None,
) -> list[dict]:
    """One row per failure of `result`. `partition_of` places each record in its own partition
    (ranged loads); a record it cannot place (e.g. its `created` is broken) gets `partition_key`."""
    quarantined_at = datetime.now(UTC)
    originals = dict(_by_index(result))
    raw_cache: dict[int, str] = {}
    rows = []
    for failure in result.failures:
        record = originals[failure.index]
        if failure.index not in raw_cache:
            raw_cache[failure.index] = _raw_json(record)
        rows.append(
            {
                "id": failure.id,
                "_partition": _partition(record, partition_key, partition_of),
                "_run_id": run_id,
                "check_name": failure.check,
                "column_name": failure.column,
                "reason": failure.reason,
                "value": failure.value,
                "raw": raw_cache[failure.index],
                "_quarantined_at": quarantined_at,
            }
        )
    return rows


def quarantine_table(
    result: ValidationResult,
    *,
    partition_key: str,
    run_id: str,
    partition_of: Callable[[dict], str] | None = None,
) -> pa.Table:
    """`quarantine_rows` as an Arrow table with the columns of QUARANTINE_COLUMNS (maybe empty)."""
    rows = quarantine_rows(result, partition_key=partition_key, run_id=run_id, partition_of=partition_of)
    return pa.Table.from_pylist(rows, schema=_ARROW_SCHEMA)


def _by_index(result: ValidationResult):
    # Failures carry batch positions; the invalid list holds those records in position order.
    positions = sorted({f.index for f in result.failures})
    return zip(positions, result.invalid, strict=True)


def _partition(record: object, default: str, partition_of: Callable[[dict], str] | None) -> str:
    if partition_of is None or not isinstance(record, dict):
        return default
    try:
        return partition_of(record)
    except (KeyError, TypeError, ValueError, OverflowError):
        return default
