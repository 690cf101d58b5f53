"""Turns raw Stripe objects into a typed, columnar batch (an Arrow table) for the warehouse.

Built column by column with the per-value work in C (dict lookups mapped over the batch, Arrow's
own conversion), since a load turns every object it fetches into a row: Python runs per value
only where a value needs coercing (an expanded reference, a decimal, a JSON column).
"""

from __future__ import annotations

import decimal
import itertools
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from operator import itemgetter
from typing import cast

import numpy as np
import orjson
import pyarrow as pa

from stripe_assets.ingest.columns import BIGINT_MAX, BIGINT_MIN, SYSTEM_COLUMNS, ColumnSpec, column_extractors

# JSON travels as Arrow's JSON extension type: DuckDB takes it as JSON as it is, without
# parsing every text again to check it (orjson wrote it, so it is valid JSON).
JSON_TYPE = pa.json_(pa.string())

_ARROW_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "TIMESTAMPTZ": pa.timestamp("s", tz="UTC"),  # Stripe's Unix seconds, as they are
    "DECIMAL(38,12)": pa.decimal128(38, 12),
    "JSON": JSON_TYPE,
}


_MAX_OFFSET = 2**31 - 1  # Arrow strings address their text with 32-bit offsets


def json_array(texts: Sequence[bytes | None]) -> pa.Array:
    """orjson's output (bytes, or None for null) as a column of JSON text (orjson writes valid
    UTF-8 only)."""
    utf8: pa.Array | None = None
    if None not in texts:
        present = cast(Sequence[bytes], texts)
        ends = np.cumsum(np.fromiter(map(len, present), dtype=np.int64, count=len(present)))
        if not len(ends) or ends[-1] <= _MAX_OFFSET:
            # The texts joined once and addressed by their lengths: no conversion per value,
            # no buffer grown and copied as it fills.
            offsets = np.concatenate(([0], ends)).astype(np.int32)
            utf8 = pa.StringArray.from_buffers(len(present), pa.py_buffer(offsets), pa.py_buffer(b"".join(present)))
    if utf8 is None:
        utf8 = pa.array(texts, pa.binary()).cast(pa.string())
    return pa.ExtensionArray.from_storage(JSON_TYPE, utf8)


def raw_texts(records: Sequence[dict], texts: Sequence[bytes | None] | None = None) -> list[bytes]:
    """The `raw` column's text of each record: the text its page sent where given, else orjson's."""
    if texts is None:
        return list(map(orjson.dumps, records))
    if None not in texts:
        return cast(list[bytes], list(texts))
    return [orjson.dumps(r) if t is None else t for r, t in zip(records, texts, strict=True)]


def _json_bytes(value: object) -> bytes | None:
    return None if value is None else orjson.dumps(value)


_DECIMAL_38 = decimal.Context(prec=38)  # DECIMAL(38,12); the default context keeps only 28 digits
_TWELVE_PLACES = decimal.Decimal("1e-12")


def decimal_value(value: object) -> decimal.Decimal | None:
    """What a DECIMAL(38,12) column holds for a value (None: not a finite number that fits)."""
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


def _fit_int64(values: list) -> bool:
    """Whether every integer of a column of ints and Nones fits BIGINT (JSON allows larger)."""
    present = [v for v in values if v is not None]
    return not present or (min(present) >= BIGINT_MIN and max(present) <= BIGINT_MAX)


def top_level_values(
    records: Sequence[dict], columns: Sequence[ColumnSpec], also: Sequence[str] = ()
) -> dict[str, list] | None:
    """The values of the columns' top-level fields (and of the fields `also` names) in every
    record (exact dicts), read in one pass over the records: each object's memory is touched
    once, not once per column (a pass per column misses the cache on every object of a large
    page). None when some record lacks one of the fields (then `column_values` reads column by
    column, None for what is missing)."""
    keys = list(dict.fromkeys([*(spec.path[0] for spec in columns), *also]))
    if len(keys) < 2 or not records:
        return None
    try:
        rows = list(map(itemgetter(*keys), records))
    except KeyError:
        return None
    return dict(zip(keys, map(list, zip(*rows, strict=True)), strict=True))


def column_values(
    records: Sequence[dict],
    spec: ColumnSpec,
    get: Callable[[dict], object],
    all_dicts: bool,
    tops: Mapping[str, list] | None = None,
) -> list:
    """The value at `spec.path` of every record (None where the path does not lead anywhere).
    `tops`: the records' top-level values already read (`top_level_values`)."""
    if not all_dicts:
        return [get(r) for r in records]
    if tops is not None and spec.path[0] in tops:
        values = tops[spec.path[0]]
    else:
        values = list(map(dict.get, records, itertools.repeat(spec.path[0])))
    for key in spec.path[1:]:  # one level at a time over the whole column
        if set(map(type, values)) == {dict}:  # the usual column of objects: the look-ups in C
            values = list(map(dict.get, values, itertools.repeat(key)))
        else:
            values = [v.get(key) if isinstance(v, dict) else None for v in values]
    return values


def _column(values: list, spec: ColumnSpec, coerce: Callable[[object], object]) -> pa.Array:
    if not set(map(type, values)) <= _AS_IS.get(spec.type, frozenset()) or (
        spec.type in ("BIGINT", "TIMESTAMPTZ") and not _fit_int64(values)
    ):
        values = [coerce(v) for v in values]
    if spec.type == "JSON":
        # orjson mapped straight over the column (no Python call per value) unless it has nulls.
        return json_array(list(map(_json_bytes if None in values else orjson.dumps, values)))
    if spec.type == "DECIMAL(38,12)":
        values = [decimal_value(v) for v in values]
    if spec.type == "TIMESTAMPTZ":
        return pa.array(values, pa.int64()).cast(_ARROW_TYPES["TIMESTAMPTZ"])
    return pa.array(values, _ARROW_TYPES[spec.type])


def to_arrow(
    records: Sequence[dict],
    columns: Sequence[ColumnSpec],
    *,
    partition_of: Callable[[dict], str],
    run_id: str,
    loaded_at: datetime,
    observed_at: datetime | Sequence[datetime | None] | None = None,
    tops: Mapping[str, list] | None = None,
    texts: Sequence[bytes | None] | None = None,
) -> pa.Table:
    """One row per record: the mapped columns, then `raw` (the full object) and bookkeeping.

    `observed_at`: how new the states are, one time for all or one per record (default `loaded_at`).
    `tops`: the records' top-level values when validation already read them (`top_level_values`).
    `texts`: each record's JSON text as its page sent it (None: none), for `raw`; the others are
    written from the parsed record."""
    arrays: dict[str, pa.Array] = {}
    all_dicts = set(map(type, records)) <= {dict}
    if not all_dicts:
        tops = None
    elif tops is None:
        tops = top_level_values(records, columns)
    for spec, get, coerce in column_extractors(columns):
        arrays[spec.name] = _column(column_values(records, spec, get, all_dicts, tops), spec, coerce)
    count = len(records)
    arrays["raw"] = json_array(raw_texts(records, texts))
    arrays["_partition"] = pa.array(list(map(partition_of, records)), pa.string())
    arrays["_run_id"] = pa.repeat(pa.scalar(run_id, pa.string()), count)
    arrays["_loaded_at"] = pa.repeat(pa.scalar(loaded_at, pa.timestamp("us", tz="UTC")), count)
    arrays["_deleted_at"] = pa.nulls(count, pa.timestamp("us", tz="UTC"))
    observed = loaded_at if observed_at is None else observed_at
    arrays["_observed_at"] = (
        pa.repeat(pa.scalar(observed, pa.timestamp("us", tz="UTC")), count)
        if isinstance(observed, datetime)
        else pa.array(list(observed), pa.timestamp("us", tz="UTC"))
    )
    assert list(arrays)[-len(SYSTEM_COLUMNS):] == list(SYSTEM_COLUMNS)
    return pa.table(arrays)
