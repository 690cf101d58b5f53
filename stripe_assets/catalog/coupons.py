"""Coupons: discounts an account offers, a percentage or an amount off, for some duration."""

from __future__ import annotations

import numpy as np
import stripe

from stripe_assets.catalog.declaration import StripeResource
from stripe_assets.catalog.rules import Columns, Rule, positive


def _one_discount(cols: Columns) -> np.ndarray:
    # Stripe takes a coupon's discount as amount_off or percent_off, never both, never neither.
    amount, percent = cols["amount_off"], cols["percent_off"]
    return np.fromiter(((a is None) != (p is None) for a, p in zip(amount, percent, strict=True)), bool, len(amount))


def _explain_discount(record: dict) -> str:
    if record.get("amount_off") is None:
        return "neither amount_off nor percent_off is set"
    if "percent_off" not in record:
        return f"amount_off ({record['amount_off']}) is set and percent_off is missing"
    return f"both amount_off ({record['amount_off']}) and percent_off ({record['percent_off']}) are set"


def _percent_in_range(cols: Columns) -> np.ndarray:
    values = cols["percent_off"]
    return np.fromiter(
        (not isinstance(v, (int, float)) or isinstance(v, bool) or 0 < v <= 100 for v in values), bool, len(values)
    )


RESOURCE = StripeResource(
    name="coupons",
    object="coupon",
    stripe_class=stripe.Coupon,
    # Coupon ids carry no prefix: Stripe makes eight characters, or the account chooses one.
    id_prefixes=("",),
    custom_ids=True,
    ordinal=11,
    summary="discounts offered: percent or amount off, duration, redemptions and validity",
    group="stripe_billing",
    columns=(
        "id", "created", "name", "percent_off", "amount_off", "currency", "duration",
        "duration_in_months", "max_redemptions", "times_redeemed", "redeem_by", "valid", "livemode",
        "metadata",
    ),
    timestamp_fields=frozenset({"created", "redeem_by"}),
    rules=(
        positive("amount_off"),
        Rule(
            name="one_discount",
            column="percent_off",
            reads=("percent_off", "amount_off"),
            description="exactly one of amount_off and percent_off is set",
            holds=_one_discount,
            explain=_explain_discount,
        ),
        Rule(
            name="percent_off_in_range",
            column="percent_off",
            reads=("percent_off",),
            description="0 < percent_off <= 100",
            holds=_percent_in_range,
            explain=lambda r: f"percent_off ({r.get('percent_off')}) is not within (0, 100]",
        ),
    ),
    # A deleted coupon can no longer be redeemed; discounts already applied stay.
    events=("coupon.created", "coupon.deleted", "coupon.updated"),
    deletion_events=("coupon.deleted",),
)
