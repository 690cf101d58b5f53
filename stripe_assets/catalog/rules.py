"""Value rules that Stripe's types cannot express but that always hold in Stripe's data.

A declaration lists its resource's rules (`StripeResource.rules`); validation runs them. Only
invariants Stripe documents or that follow from how its objects work belong here: a rule that
real accounts can break (e.g. `amount_captured <= amount`, which overcapture breaks, or
`fee >= 0`, which refunded fees break) would quarantine good records. A rule only judges records
whose fields have the right type: validation runs it only over records whose fields it `reads`
passed their type checks (nulls and absent values included), so a type fault is reported by the
type check alone, once, and a rule never meets a value of the wrong type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

Columns = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class Rule:
    name: str  # the check name failures carry
    column: str  # the column failures are reported under
    reads: tuple[str, ...]  # every field the rule looks at (shown as the failing value)
    description: str  # the rule as a reader sees it in the schema description
    holds: Callable[[Columns], np.ndarray]  # True where the rule holds or cannot be judged (values typed)
    explain: Callable[[dict], str]  # why one failing record breaks it

    @property
    def single_column(self) -> bool:
        return self.reads == (self.column,)


def integers(values: np.ndarray) -> np.ndarray:
    """Integer cells as float64 (exact for any amount Stripe sends), NaN for everything else."""
    if infer_dtype(values, skipna=False) == "integer":
        ints = np.ones(len(values), dtype=bool)
    else:
        ints = pd.Series(list(map(type, values)), dtype=object).isin([int]).to_numpy()
    out = np.full(len(values), np.nan)
    try:
        out[ints] = values[ints].astype(np.float64)
    except OverflowError:  # beyond any amount: judged cell by cell, huge ones left unjudged
        out[ints] = [float(v) if abs(v) < 2**53 else np.nan for v in values[ints]]
    return out


def _at_least(column: str, low: int, name: str, fails: str) -> Rule:
    """`column` >= `low`, for an integer column (other cells are the type check's)."""
    return Rule(
        name=f"{column}_{name}",
        column=column,
        reads=(column,),
        description=f"{column} >= {low}" if low == 0 else f"{column} > {low - 1}",
        holds=lambda cols: ~(integers(cols[column]) < low),
        explain=lambda r: f"{column} ({r.get(column)}) {fails}",
    )


def non_negative(column: str) -> Rule:
    return _at_least(column, 0, "non_negative", "is negative")


def positive(column: str) -> Rule:
    return _at_least(column, 1, "positive", "is not positive")
