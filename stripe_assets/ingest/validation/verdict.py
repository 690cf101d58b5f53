"""Whether every record of a part passes every check of its pandera schema, decided column-wise.

The checks are the schema's own (`ResourceSchema.checks`, the same test functions its pandera
columns run, and its rules); what is left out is the per-part work around them: no DataFrame of
Python objects, no pandera dispatch, no `isna` pass per column. Each field's cells are gathered
with `dict.get` mapped over the part and their exact types collected into a set, both in C; the
common all-valid column is settled by that set alone (a JSON bool is `bool`, never `int`; 1.0 is
`float`), and only the checks that need the values (enums, id and currency patterns in RE2,
unique ids, value tests of decimal strings, lists and expanded objects, the catalog's rules) read
them. Any doubt is a `None`: a type outside JSON's, a subclass, a null or a missing field where
the field is required, a check that fails or cannot run. Then the part takes the exact path.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Sequence
from itertools import repeat

import numpy as np

from stripe_assets.ingest import records as rows_module
from stripe_assets.ingest.columns import ColumnSpec
from stripe_assets.ingest.validation import kinds, schemas
from stripe_assets.ingest.validation.coercion import unfit_values
from stripe_assets.ingest.validation.frame import ABSENT, Absent, object_column
from stripe_assets.ingest.validation.schemas import ResourceSchema
from stripe_assets.ingest.validation.validate import Drift, drift_of

_NULLS = frozenset({type(None), Absent})


def verdict(
    schema: ResourceSchema,
    records: Sequence[object],
    columns: Sequence[ColumnSpec],
    reads: dict[str, list] | None = None,
) -> Drift | None:
    """The part's drift when every record passes every check; None when that is not certain.

    `reads`: filled, when the part passes, with the top-level values read for the checks and the
    columns (`records.top_level_values`), for the part's rows to reuse rather than read again."""
    if not records or set(map(type, records)) != {dict}:  # RejectedRecord and SDK objects: exact path
        return None
    objects: list[dict] = list(records)  # type: ignore[arg-type]
    # Each record's shape, its keys and its values' exact types, found and counted in C: a page
    # of one resource has few shapes, and the types of every field are read off them.
    value_types = map(tuple, map(map, repeat(type), map(dict.values, objects)))
    key_shapes = Counter(map(tuple, objects))
    if len(key_shapes) == 1:  # Stripe sends every field, null or not: one set of keys, in one order
        (keys,) = key_shapes
        shapes = {(keys, kinds_of): 0 for kinds_of in set(value_types)}
    else:
        shapes = Counter(zip(map(tuple, objects), value_types, strict=True))
    types: dict[str, set[type]] = {name: set() for name in schema.fields}
    for keys, kinds_of in shapes:
        present = dict(zip(keys, kinds_of, strict=True))
        for name, found in types.items():
            found.add(present.get(name, Absent))
    arrays: dict[str, np.ndarray] = {}
    # Every record has the same keys (Stripe's usual page): the fields the checks read and the
    # columns' fields are read in one pass over the records, each object's memory touched once.
    # A field no record carries is left to `array` (ABSENT in every cell).
    tops = None
    if len(key_shapes) == 1:
        carried = set(next(iter(key_shapes)))
        wanted = [name for name in _fields_read(schema, types) if name in carried]
        tops = rows_module.top_level_values(objects, columns, wanted)

    def array(name: str) -> np.ndarray:
        if name not in arrays:
            read = tops.get(name) if tops is not None else None
            if read is None:
                read = list(map(dict.get, objects, repeat(name), repeat(ABSENT)))
            arrays[name] = object_column(read)
        return arrays[name]

    for name, spec in schema.fields.items():
        found = types[name]
        if not found <= kinds.JSON_TYPES:
            return None
        if spec.required and found & _NULLS:
            return None  # `required` or `not_nullable` fails
        if float in found and any(map(math.isnan, (c for c in array(name) if type(c) is float))):
            return None  # not JSON; pandas takes NaN for null, and whether a check does depends on the part
        for check in _checks_reading_values(schema, name, found):
            if not _passes(check.test(array(name))):
                return None
    for rule in schema.rules.values():
        if not rule.single_column:
            held = schemas.judge(rule, {c: array(c) for c in rule.reads}, schema.type_tests)
            if not _passes(held):
                return None
    if columns and unfit_values(objects, columns, tops):
        return None
    drift = drift_of(schema, objects, array, _field_counts(key_shapes, schema.fields.keys()))
    if reads is not None and tops is not None:
        reads.update(tops)
    return drift


def _fields_read(schema: ResourceSchema, types: dict[str, set[type]]) -> list[str]:
    """The fields whose values the checks below read, given the types found (a check that the
    types settle reads nothing)."""
    read = dict.fromkeys(
        name for name in schema.fields if float in types[name] or _checks_reading_values(schema, name, types[name])
    )
    for rule in schema.rules.values():
        if not rule.single_column:
            read.update(dict.fromkeys(rule.reads))
    read.update(dict.fromkeys(schema.drift_enums))
    return list(read)


def _checks_reading_values(schema: ResourceSchema, name: str, found: set[type]) -> list[schemas.FieldCheck]:
    """The checks of field `name` that must read its values, given the exact types found in it:
    not `required` (the types settle it: a null or a missing cell), nor a `type` check that
    the types alone settle."""
    kind = schema.fields[name].kind
    return [
        check
        for check in schema.checks[name]
        if check.name != schemas.REQUIRED and not (check.name == schemas.TYPE and kinds.settled_by_types(kind, found))
    ]


def _field_counts(key_shapes: Counter, known: Collection[str]) -> dict[str, int]:
    """Records carrying each field the schema does not know."""
    counts: dict[str, int] = {}
    for keys, n in key_shapes.items():
        for name in keys:
            if name not in known:
                counts[name] = counts.get(name, 0) + n
    return counts


def _passes(outcome: kinds.Outcome) -> bool:
    """A test's answer means every cell passed (True, or a mask of only True, as pandera reads it)."""
    return outcome is True or (isinstance(outcome, np.ndarray) and outcome.dtype == bool and bool(outcome.all()))
