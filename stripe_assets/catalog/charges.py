"""Charges: every attempt to move money from a card or other payment method."""

from __future__ import annotations

import numpy as np
import stripe

from stripe_assets.catalog.declaration import StripeResource
from stripe_assets.catalog.rules import Columns, Rule, integers, non_negative


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


RESOURCE = StripeResource(
    name="charges",
    object="charge",
    stripe_class=stripe.Charge,
    # Charges made through some payment methods (e.g. ACH) carry `py_` ids.
    id_prefixes=("ch_", "py_"),
    ordinal=0,
    summary="payments, with their outcome, card and refunded amount",
    group="stripe_payments",
    columns=(
        "id", "created", "amount", "amount_captured", "amount_refunded", "currency", "status",
        "paid", "captured", "refunded", "disputed", "livemode", "customer", "balance_transaction",
        "payment_intent", "payment_method", "description", "failure_code",
        "failure_message", "receipt_email", "statement_descriptor",
        "card_brand: payment_method_details.card.brand",
        "card_country: payment_method_details.card.country",
        "outcome_type: outcome.type", "risk_level: outcome.risk_level", "metadata",
    ),
    rules=(
        non_negative("amount"),
        non_negative("amount_captured"),
        non_negative("amount_refunded"),
        Rule(
            name="amount_refunded_within_charge",
            column="amount_refunded",
            reads=("amount_refunded", "amount", "amount_captured"),
            description="amount_refunded <= max(amount, amount_captured)",
            holds=_refunded_within_charge,
            explain=_explain_refunded,
        ),
    ),
    # (`charge.dispute.*` events carry a dispute, not the charge.)
    events=(
        "charge.captured",
        "charge.expired",
        "charge.failed",
        "charge.pending",
        "charge.refunded",
        "charge.succeeded",
        "charge.updated",
    ),
)
