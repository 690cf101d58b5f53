"""Promotion codes: the codes customers type to redeem a coupon."""

from __future__ import annotations

import numpy as np
import stripe

from stripe_assets.catalog.declaration import StripeResource
from stripe_assets.catalog.rules import Columns, Rule, non_negative


def _judged(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _within_max(cols: Columns) -> np.ndarray:
    # Stripe refuses a redemption past max_redemptions.
    redeemed, most = cols["times_redeemed"], cols["max_redemptions"]
    return np.fromiter(
        (not (_judged(r) and _judged(m)) or r <= m for r, m in zip(redeemed, most, strict=True)), bool, len(most)
    )


RESOURCE = StripeResource(
    name="promotion_codes",
    object="promotion_code",
    stripe_class=stripe.PromotionCode,
    id_prefixes=("promo_",),
    ordinal=16,
    summary="codes customers redeem a coupon with: code, coupon, redemptions, expiry and whether active",
    group="stripe_billing",
    # Stripe's current shape (SDK 16.1) nests the coupon under `promotion` (type `coupon`); older API
    # versions had a top-level `coupon` object. The column keeps the plain name.
    columns=(
        "id", "created", "code", "coupon: promotion.coupon", "active", "customer", "times_redeemed",
        "max_redemptions", "expires_at", "first_time_transaction: restrictions.first_time_transaction",
        "minimum_amount: restrictions.minimum_amount",
        "minimum_amount_currency: restrictions.minimum_amount_currency", "livemode", "metadata",
    ),
    timestamp_fields=frozenset({"created", "expires_at"}),
    rules=(
        non_negative("times_redeemed"),
        Rule(
            name="times_redeemed_within_max",
            column="times_redeemed",
            reads=("times_redeemed", "max_redemptions"),
            description="times_redeemed <= max_redemptions when set",
            holds=_within_max,
            explain=lambda r: (
                f"times_redeemed ({r.get('times_redeemed')}) > max_redemptions ({r.get('max_redemptions')})"
            ),
        ),
    ),
    # A code is deactivated (active false), never deleted; it is active only while its coupon is valid.
    events=("promotion_code.created", "promotion_code.updated"),
)
