"""Nested values a table column cannot hold: the record is rejected instead of landing NULL.

The schema checks each top-level field; a column may also read a nested path (a default such as
`card_brand`, or a dataflow's mapping). A value there of another kind than Stripe's schema says,
or one the column's type cannot hold, sends the record to quarantine with the path and the
reason, as a top-level type error does, rather than landing with the column silently NULL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from stripe_assets.ingest.columns import BIGINT_MAX, BIGINT_MIN, ColumnSpec, column_extractors
from stripe_assets.ingest.records import column_values, decimal_value, top_level_values
from stripe_assets.ingest.stripe_schema import FieldSpec, describe_kind, kind_matches

# Python types a column of each type takes as they are (the common, all-valid case is one set test).
_AS_IS: dict[str, frozenset[type]] = {
    "BIGINT": frozenset({int, type(None)}),
    "TIMESTAMPTZ": frozenset({int, type(None)}),
    "VARCHAR": frozenset({str, type(None)}),
    "BOOLEAN": frozenset({bool, type(None)}),
    "DOUBLE": frozenset({float, int, type(None)}),
}


@dataclass(frozen=True)
class Unfit:
    index: int  # position among the records given
    column: str  # the table column
    value: object
    reason: str  # names the path and what is wrong
    summary: str  # the reason without the record's value


def unfit_values(
    records: Sequence[dict], columns: Sequence[ColumnSpec], tops: Mapping[str, list] | None = None
) -> list[Unfit]:
    """Every (record, column) whose non-null value the column would store as NULL. `tops`: the
    records' top-level values already read (`top_level_values`)."""
    found: list[Unfit] = []
    all_dicts = set(map(type, records)) <= {dict}
    # JSON holds any value; the schema checks top-level fields
    nested = [spec for spec in columns if spec.type != "JSON" and len(spec.path) > 1]
    if not all_dicts:
        tops = None
    elif tops is None:
        tops = top_level_values(records, nested)
    for spec, get, coerce in column_extractors(nested):
        values = column_values(records, spec, get, all_dicts, tops)
        if set(map(type, values)) <= _AS_IS.get(spec.type, frozenset()) and (
            spec.type not in ("BIGINT", "TIMESTAMPTZ") or _fits_int64(values)
        ):
            continue
        field = FieldSpec(spec.dotted_path, spec.kind, True)  # type: ignore[arg-type]
        for index, value in enumerate(values):
            if value is None:
                continue
            if spec.kind != "any" and not kind_matches(field, value):
                wrong = f"expected {describe_kind(field)}, got {type(value).__name__}"
            elif _holds(spec, coerce(value)):
                continue
            else:
                wrong = f"does not fit {spec.type}"
            found.append(Unfit(index, spec.name, value, f"{spec.dotted_path}: {wrong}", f"{spec.name}: {wrong}"))
    return found


def _fits_int64(values: list) -> bool:
    present = [v for v in values if v is not None]
    return not present or (min(present) >= BIGINT_MIN and max(present) <= BIGINT_MAX)


def _holds(spec: ColumnSpec, coerced: object) -> bool:
    if coerced is None:
        return False
    if spec.type == "DECIMAL(38,12)":
        return decimal_value(coerced) is not None
    return True
