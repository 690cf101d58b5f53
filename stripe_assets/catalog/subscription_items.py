"""Subscription items: the prices a subscription bills and in what quantity (MRR is per item)."""

from __future__ import annotations

import stripe

from stripe_assets.catalog.child import ChildOf, StripeChild

RESOURCE = StripeChild(
    name="subscription_items",
    object="subscription_item",
    stripe_class=stripe.SubscriptionItem,
    id_prefixes=("si_",),
    ordinal=102,
    summary="the prices each subscription bills: price, quantity and current period of every item",
    group="stripe_billing",
    columns=(
        "id", "created", "quantity", "price", "current_period_start", "current_period_end", "billed_until",
        "metadata",
    ),
    timestamp_fields=frozenset({"created", "current_period_start", "current_period_end", "billed_until"}),
    # A subscription embeds its first 10 items; quantity and price changes come with
    # `customer.subscription.updated`, so items are read again whenever their subscription changes.
    child_of=ChildOf(
        parent="subscriptions", parent_column="subscription", path="/v1/subscription_items",
        parent_param="subscription", embedded="items",
    ),
)
