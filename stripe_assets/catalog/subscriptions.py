"""Subscriptions: a customer's recurring plan, its status and billing periods."""

from __future__ import annotations

from types import MappingProxyType

import stripe

from stripe_assets.catalog.declaration import StripeResource

RESOURCE = StripeResource(
    name="subscriptions",
    object="subscription",
    stripe_class=stripe.Subscription,
    id_prefixes=("sub_",),
    ordinal=1,
    summary="recurring plans of customers: status, trial, cancellation and items",
    group="stripe_billing",
    columns=(
        "id", "created", "customer", "status", "collection_method", "currency",
        "cancel_at_period_end", "cancel_at", "canceled_at", "ended_at", "start_date",
        "billing_cycle_anchor", "trial_start", "trial_end", "days_until_due", "description",
        "latest_invoice", "default_payment_method", "livemode", "items", "metadata",
    ),
    timestamp_fields=frozenset(
        {
            "created",
            "billing_cycle_anchor",
            "cancel_at",
            "canceled_at",
            "current_period_end",
            "current_period_start",
            "ended_at",
            "start_date",
            "trial_end",
            "trial_start",
        }
    ),
    # Without status=all Stripe's list omits canceled subscriptions.
    list_params=MappingProxyType({"status": "all"}),
    # A canceled subscription (`customer.subscription.deleted`) still exists: an update, not a deletion.
    events=(
        "customer.subscription.created",
        "customer.subscription.deleted",
        "customer.subscription.paused",
        "customer.subscription.pending_update_applied",
        "customer.subscription.pending_update_expired",
        "customer.subscription.resumed",
        "customer.subscription.trial_will_end",
        "customer.subscription.updated",
    ),
)
