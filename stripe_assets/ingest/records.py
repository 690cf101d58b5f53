"""Turns raw Stripe objects into a typed, columnar batch (an Arrow table) for the warehouse."""

from __future__ import annotations

import decimal
import itertools
from collections.abc import Callable, Sequence
from datetime import datetime

import orjson
import pyarrow as pa

from stripe_assets.ingest.columns import SYSTEM_COLUMNS, ColumnSpec, column_extractors

_ARROW_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "TIMESTAMPTZ": pa.timestamp("s", tz="UTC"),  # Stripe's Unix seconds, as they are
    "DECIMAL(38,12)": pa.decimal128(38, 12),
    "JSON": pa.string(),  # DuckDB casts the text to JSON on insert
}


def _json_text(value: object) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


_DECIMAL_38 = decimal.Context(prec=38)  # DECIMAL(38,12); the default context keeps only 28 digits
_TWELVE_PLACES = decimal.Decimal("1e-12")


def _decimal(value: object) -> decimal.Decimal | None:
    if value is None:
        return None
    try:
        number = _DECIMAL_38.create_decimal(str(value))
        return number.quantize(_TWELVE_PLACES, context=_DECIMAL_38) if number.is_finite() else None
    except (decimal.InvalidOperation, ValueError):
        return None


# Per column type, the Python types whose values need no coercion: a column holding only those
# (and None) goes to Arrow as it is, without a Python call per value.
_AS_IS: dict[str, frozenset[type]] = {
    "BIGINT": frozenset({int, type(None)}),
    "TIMESTAMPTZ": frozenset({int, type(None)}),
    "VARCHAR": frozenset({str, type(None)}),
    "BOOLEAN": frozenset({bool, type(None)}),
    "DOUBLE": frozenset({float, type(None)}),
}


def to_arrow(
    records: Sequence[dict],
    columns: Sequence[ColumnSpec],
    *,
    partition_of: Callable[[dict], str],
    run_id: str,
    loaded_at: datetime,
) -> pa.Table:
    """One row per record: the mapped columns, then `raw` (the full object) and bookkeeping."""
    arrays: dict[str, pa.Array] = {}
    all_dicts = set(map(type, records)) <= {dict}
    for spec, get, coerce in column_extractors(columns):
        if len(spec.path) == 1 and all_dicts:  # the common case, without a Python call per value
            values = list(map(dict.get, records, itertools.repeat(spec.path[0])))
        else:
            values = [get(r) for r in records]
        if not set(map(type, values)) <= _AS_IS.get(spec.type, frozenset()):
            values = [coerce(v) for v in values]
        if spec.type == "JSON":
            values = [_json_text(v) for v in values]
        elif spec.type == "DECIMAL(38,12)":
            values = [_decimal(v) for v in values]
        if spec.type == "TIMESTAMPTZ":
            arrays[spec.name] = pa.array(values, pa.int64()).cast(_ARROW_TYPES["TIMESTAMPTZ"])
        else:
            arrays[spec.name] = pa.array(values, _ARROW_TYPES[spec.type])
    arrays["raw"] = pa.array([orjson.dumps(r).decode() for r in records], pa.string())
    arrays["_partition"] = pa.array([partition_of(r) for r in records], pa.string())
    arrays["_run_id"] = pa.array([run_id] * len(records), pa.string())
    arrays["_loaded_at"] = pa.array([loaded_at] * len(records), pa.timestamp("us", tz="UTC"))
    arrays["_deleted_at"] = pa.nulls(len(records), pa.timestamp("us", tz="UTC"))
    assert list(arrays)[-len(SYSTEM_COLUMNS):] == list(SYSTEM_COLUMNS)
    return pa.table(arrays)
