"""Prices: what products cost, once or per billing interval."""

from __future__ import annotations

import numpy as np
import stripe

from stripe_assets.catalog.declaration import StripeResource
from stripe_assets.catalog.rules import Columns, Rule, non_negative


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


RESOURCE = StripeResource(
    name="prices",
    object="price",
    stripe_class=stripe.Price,
    # Prices made from legacy plans keep the plan's id, which the account could choose.
    id_prefixes=("price_", "plan_"),
    custom_ids=True,
    ordinal=5,
    summary="what products cost: amount, currency and billing interval",
    group="stripe_products",
    columns=(
        "id", "created", "product", "active", "currency", "unit_amount", "unit_amount_decimal",
        "type", "billing_scheme", "nickname", "lookup_key", "tax_behavior",
        "recurring_interval: recurring.interval", "recurring_interval_count: recurring.interval_count",
        "recurring_usage_type: recurring.usage_type", "livemode", "metadata",
    ),
    rules=(
        non_negative("unit_amount"),
        Rule(
            name="recurring_matches_type",
            column="recurring",
            reads=("recurring", "type"),
            description="recurring is set exactly when type is 'recurring'",
            holds=_recurring_matches_type,
            explain=_explain_recurring,
        ),
    ),
    events=("price.created", "price.deleted", "price.updated"),
    deletion_events=("price.deleted",),
)
