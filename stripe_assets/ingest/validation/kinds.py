"""Column-wide tests of one value rule per cell, fast for the common all-valid column.

Each test takes an object array and answers True when every cell passes (found with C-speed
set operations over the cells' types or distinct values), or else a boolean mask with one entry
per cell. Nulls and absent values always pass here: nullability and required-ness are separate
checks, so each fault is reported once, under its own name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.types import infer_dtype

from stripe_assets.ingest.stripe_schema import Kind, is_decimal_string
from stripe_assets.ingest.validation.frame import ABSENT, Absent

Outcome = bool | np.ndarray  # True: every cell passes; otherwise one bool per cell

_EMPTY = (type(None), Absent)

# The Python types a JSON value of each kind decodes to.
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "decimal_string": (str,),
    "object": (dict,),
    "map": (dict,),
    "array": (list,),
    "list_object": (dict,),
    "expandable": (str, dict),
}


# pandas' C type inference over the non-null cells, for the results that pin down one type.
# It skips float NaN like null, which JSON cannot carry anyway.
_INFERRED: dict[str, frozenset[type]] = {
    "integer": frozenset({int}),
    "string": frozenset({str}),
    "boolean": frozenset({bool}),
    "floating": frozenset({float}),
    "mixed-integer-float": frozenset({int, float}),
    "empty": frozenset(),
}


def present_types(values: np.ndarray) -> set[type] | frozenset[type]:
    """The types among the cells (`Absent` when a record lacks the field); nulls may be left out."""
    inferred = _INFERRED.get(infer_dtype(values, skipna=True))
    if inferred is not None:
        return inferred
    return set(map(type, values))


# Kinds whose values need more than the right Python type: the type the extra test applies to.
_VALUE_TESTS: dict[str, tuple[type, Callable[[object], bool]]] = {
    "decimal_string": (str, lambda v: isinstance(v, str) and is_decimal_string(v)),
    "list_object": (dict, lambda v: v.get("object") == "list"),  # type: ignore[attr-defined]
    "expandable": (dict, lambda v: isinstance(v.get("id"), str)),  # type: ignore[attr-defined]
}


JSON_TYPES = frozenset({str, int, float, bool, dict, list, type(None), Absent})  # what a JSON value decodes to


def settled_by_types(kind: Kind, present: Collection[type]) -> bool:
    """Whether cells of exactly these types all pass `kind_test(kind)` with no look at a value."""
    if kind == "any":
        return True
    value_type = _VALUE_TESTS.get(kind, (None, None))[0]
    return set(present) <= frozenset(_TYPES[kind] + _EMPTY) and value_type not in present


def _mask(values: np.ndarray, test: Callable[[object], bool]) -> np.ndarray:
    return np.fromiter(map(test, values), dtype=bool, count=len(values))


def kind_test(kind: Kind) -> Callable[[np.ndarray], Outcome] | None:
    """The type test for a field kind, or None when any value is acceptable."""
    if kind == "any":
        return None
    allowed = _TYPES[kind]
    # Exact types rather than isinstance: bool is an int subclass, and True is not an amount.
    exact = frozenset(allowed + _EMPTY)
    exact_list = list(exact)
    # Dicts and lists may also arrive as subclasses (SDK objects); those cells are rechecked.
    loose = tuple(t for t in allowed if t in (dict, list))
    value_type, value_test = _VALUE_TESTS.get(kind, (None, None))

    def test(values: np.ndarray) -> Outcome:
        present = present_types(values)
        if present <= exact and value_type not in present:
            return True
        types = list(map(type, values))
        # Hash lookups of the cells' types in C; Python only for the cells that need a closer look.
        mask = pd.Series(types, dtype=object).isin(exact_list).to_numpy(copy=True)
        for i in np.flatnonzero(~mask) if loose else ():
            if isinstance(values[i], loose):
                mask[i] = True
        if value_type is not None and value_test is not None:
            for i in np.flatnonzero(mask):
                v = values[i]
                if isinstance(v, value_type) and not value_test(v):
                    mask[i] = False
        return mask

    return test


def enum_test(known: Collection[str]) -> Callable[[np.ndarray], Outcome]:
    """Strings must be one of `known` (other types are the type test's business)."""
    allowed = frozenset(known)

    def element(v: object) -> bool:
        return type(v) is not str or v in allowed

    def test(values: np.ndarray) -> Outcome:
        try:
            distinct = set(values)
        except TypeError:  # unhashable cells (objects, arrays): judged one by one
            return _mask(values, element)
        if all(element(v) for v in distinct):
            return True
        return _mask(values, element)

    return test


def unknown_values(values: np.ndarray, known: Collection[str]) -> dict[str, int]:
    """How often each string outside `known` occurs (schema drift of an open enum)."""
    try:
        if all(type(v) is not str or v in known for v in set(values)):
            return {}
    except TypeError:  # unhashable cells: counted one by one below
        pass
    counts: dict[str, int] = {}
    for v in values:
        if type(v) is str and v not in known:
            counts[v] = counts.get(v, 0) + 1
    return counts


def pattern_test(pattern: str) -> Callable[[np.ndarray], Outcome]:
    """Strings must match `pattern` entirely."""
    core = pattern.removeprefix("^").removesuffix("$")
    compiled = re.compile(core)
    anchored = f"^(?:{core})$"  # RE2 (Arrow): `$` is the end of the text, as fullmatch

    def element(v: object) -> bool:
        return type(v) is not str or compiled.fullmatch(v) is not None

    def test(values: np.ndarray) -> Outcome:
        if infer_dtype(values, skipna=False) == "string":  # RE2 over an Arrow array, in C++
            matched = pc.match_substring_regex(pa.array(values, type=pa.string()), anchored)
            return True if pc.all(matched).as_py() else matched.to_numpy(zero_copy_only=False)
        try:  # e.g. currencies, with a record lacking one: few distinct values to test
            if all(map(element, set(values))):
                return True
        except TypeError:  # unhashable cells
            pass
        return _mask(values, element)

    return test


def first_occurrence_test(values: np.ndarray) -> Outcome:
    """Each string appears once; repeats after the first fail (Stripe ids are unique)."""
    if infer_dtype(values, skipna=False) == "string":  # hashed in C
        repeated = pd.Series(values, dtype=object).duplicated(keep="first").to_numpy()
        return True if not repeated.any() else ~repeated
    seen: set[str] = set()
    mask = np.ones(len(values), dtype=bool)
    for i, v in enumerate(values):
        if type(v) is str:
            if v in seen:
                mask[i] = False
            else:
                seen.add(v)
    return True if mask.all() else mask


def presence_test(values: np.ndarray) -> Outcome:
    """Fails where a record does not carry the field at all."""
    if Absent not in present_types(values):
        return True
    return np.fromiter((v is not ABSENT for v in values), dtype=bool, count=len(values))
