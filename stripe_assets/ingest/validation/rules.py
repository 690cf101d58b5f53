"""Value rules that Stripe's types cannot express but that always hold in Stripe's data.

Only invariants Stripe documents or that follow from how its objects work are listed; a rule
that real accounts can break (e.g. `amount_captured <= amount`, which overcapture breaks, or
`fee >= 0`, which refunded fees break) would quarantine good records, so it is left out.
A rule only judges records whose fields have the right type; type faults are reported by the
type check instead, once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from stripe_assets.ingest.validation.kinds import integers

Columns = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class Rule:
    name: str  # the check name failures carry
    column: str  # the column failures are reported under
    reads: tuple[str, ...]  # every field the rule looks at (shown as the failing value)
    description: str  # the rule as a reader sees it in the schema description
    holds: Callable[[Columns], np.ndarray]  # True where the rule holds or cannot be judged
    explain: Callable[[dict], str]  # why one failing record breaks it

    @property
    def single_column(self) -> bool:
        return self.reads == (self.column,)


def _non_negative(column: str) -> Rule:
    return Rule(
        name=f"{column}_non_negative",
        column=column,
        reads=(column,),
        description=f"{column} >= 0",
        holds=lambda cols: ~(integers(cols[column]) < 0),
        explain=lambda r: f"{column} ({r.get(column)}) is negative",
    )


def _positive(column: str) -> Rule:
    return Rule(
        name=f"{column}_positive",
        column=column,
        reads=(column,),
        description=f"{column} > 0",
        holds=lambda cols: ~(integers(cols[column]) <= 0),
        explain=lambda r: f"{column} ({r.get(column)}) is not positive",
    )


def _refunded_within_charge(cols: Columns) -> np.ndarray:
    # Releasing an uncaptured charge "refunds" up to `amount`; refunds after an overcapture go
    # up to `amount_captured`: so the refunded total never exceeds the larger of the two.
    refunded = integers(cols["amount_refunded"])
    limit = np.fmax(integers(cols["amount"]), integers(cols["amount_captured"]))
    return ~(refunded > limit)


def _explain_refunded(record: dict) -> str:
    refunded, amount, captured = (record.get(k) for k in ("amount_refunded", "amount", "amount_captured"))
    if isinstance(captured, int) and isinstance(amount, int) and captured > amount:
        return f"amount_refunded ({refunded}) > amount_captured ({captured})"
    return f"amount_refunded ({refunded}) > amount ({amount})"


def _net_is_amount_minus_fee(cols: Columns) -> np.ndarray:
    net, amount, fee = (integers(cols[k]) for k in ("net", "amount", "fee"))
    judged = ~(np.isnan(net) | np.isnan(amount) | np.isnan(fee))
    return ~judged | (net == amount - fee)


def _explain_net(record: dict) -> str:
    net, amount, fee = (record.get(k) for k in ("net", "amount", "fee"))
    return f"net ({net}) != amount ({amount}) - fee ({fee})"


def _recurring_matches_type(cols: Columns) -> np.ndarray:
    # `recurring` describes a recurring price and only that; unknown (drifted) types are not judged.
    kinds, recurring = cols["type"], cols["recurring"]
    return np.fromiter(
        (
            not (t == "recurring" and not isinstance(r, dict)) and not (t == "one_time" and isinstance(r, dict))
            for t, r in zip(kinds, recurring, strict=True)
        ),
        dtype=bool,
        count=len(kinds),
    )


def _explain_recurring(record: dict) -> str:
    if record.get("type") == "recurring":
        return "type is 'recurring' but recurring is not set"
    return "type is 'one_time' but recurring is set"


RULES: Mapping[str, tuple[Rule, ...]] = {
    "charges": (
        _non_negative("amount"),
        _non_negative("amount_captured"),
        _non_negative("amount_refunded"),
        Rule(
            name="amount_refunded_within_charge",
            column="amount_refunded",
            reads=("amount_refunded", "amount", "amount_captured"),
            description="amount_refunded <= max(amount, amount_captured)",
            holds=_refunded_within_charge,
            explain=_explain_refunded,
        ),
    ),
    "subscriptions": (),
    "refunds": (_positive("amount"),),
    "balance_transactions": (
        Rule(
            name="net_is_amount_minus_fee",
            column="net",
            reads=("net", "amount", "fee"),
            description="net == amount - fee",
            holds=_net_is_amount_minus_fee,
            explain=_explain_net,
        ),
    ),
    "customers": (),
    "prices": (
        _non_negative("unit_amount"),
        Rule(
            name="recurring_matches_type",
            column="recurring",
            reads=("recurring", "type"),
            description="recurring is set exactly when type is 'recurring'",
            holds=_recurring_matches_type,
            explain=_explain_recurring,
        ),
    ),
}


def rules_for(resource: str) -> tuple[Rule, ...]:
    return RULES.get(resource, ())
