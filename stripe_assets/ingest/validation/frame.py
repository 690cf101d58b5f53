"""Raw Stripe objects as a DataFrame of untouched Python values, one object column per field.

Columns keep the values exactly as decoded from JSON (no dtype inference, no int→float), so a
record whose `amount` is the string "1000" is visible as such in that record's cell. A field the
record does not carry at all holds `ABSENT`, which is distinct from a JSON null (`None`).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain, repeat

import numpy as np
import pandas as pd


class Absent:
    """The type of `ABSENT`, the value of a field a record does not carry (not the same as null)."""

    __slots__ = ()
    _instance: Absent | None = None

    def __new__(cls) -> Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<absent>"

    def __bool__(self) -> bool:
        return False


ABSENT = Absent()


def object_column(values: Sequence[object]) -> np.ndarray:
    """A 1-D object array; lists stay single cells (np.array would turn them into a 2-D array)."""
    return np.fromiter(values, dtype=object, count=len(values))


def records_frame(records: Sequence[dict], fields: Sequence[str], index: Sequence[int]) -> pd.DataFrame:
    """One row per record (labelled by `index`, its position in the batch), one column per field."""
    # All lookups run in C (map over dict.get with a default), row by row into one flat array:
    # about twice as fast as one list comprehension per field.
    absent = repeat(ABSENT)
    cells = chain.from_iterable(map(r.get, fields, absent) for r in records)
    values = np.fromiter(cells, dtype=object, count=len(records) * len(fields))
    # dtype=object: no per-column type inference, the cells stay exactly as decoded.
    return pd.DataFrame(
        values.reshape(len(records), len(fields)),
        columns=list(fields),
        index=pd.Index(index, dtype="int64"),
        dtype=object,
        copy=False,
    )
