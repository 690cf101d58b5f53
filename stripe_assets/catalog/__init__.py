"""The six Stripe resources this project ingests, described once as data.

Everything else (client paging, table names, asset keys, the emulator) looks resources up here
instead of repeating paths, object names or id prefixes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import stripe


@dataclass(frozen=True)
class StripeResource:
    name: str  # plural, as in the API path, the asset key and the table name
    object: str  # the `object` field Stripe puts on each instance
    stripe_class: type  # the SDK's typed class: the schema source for the pinned API version
    id_prefixes: tuple[str, ...]  # Stripe id prefixes this object may carry
    # Query parameters every list call needs to see all objects (Stripe hides some by default).
    list_params: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # Objects that may also carry ids chosen by the account (not only the prefixes above).
    custom_ids: bool = False
    # The Event types whose `data.object` is this resource (empty: immutable, created-only).
    events: tuple[str, ...] = ()
    # Those of `events` that mean Stripe deleted the object (its row stays, marked `_deleted_at`).
    deletion_events: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        return f"/v1/{self.name}"

    @property
    def asset_path(self) -> list[str]:
        """The Dagster asset key's path, `stripe/<name>` (dg.AssetKey(resource.asset_path))."""
        return ["stripe", self.name]

    @property
    def table(self) -> str:
        return f"stripe.{self.name}"

    @property
    def quarantine_table(self) -> str:
        return f"stripe_quarantine.{self.name}"


RESOURCES: Mapping[str, StripeResource] = MappingProxyType(
    {
        r.name: r
        for r in (
            # Charges made through some payment methods (e.g. ACH) carry `py_` ids.
            # (`charge.dispute.*` events carry a dispute, not the charge.)
            StripeResource(
                "charges",
                "charge",
                stripe.Charge,
                ("ch_", "py_"),
                events=(
                    "charge.captured",
                    "charge.expired",
                    "charge.failed",
                    "charge.pending",
                    "charge.refunded",
                    "charge.succeeded",
                    "charge.updated",
                ),
            ),
            # Without status=all Stripe's list omits canceled subscriptions. A canceled
            # subscription (`customer.subscription.deleted`) still exists: an update, not a deletion.
            StripeResource(
                "subscriptions",
                "subscription",
                stripe.Subscription,
                ("sub_",),
                MappingProxyType({"status": "all"}),
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
            ),
            StripeResource(
                "refunds",
                "refund",
                stripe.Refund,
                ("re_", "pyr_"),
                events=("charge.refund.updated", "refund.created", "refund.failed", "refund.updated"),
            ),
            # Ledger entries never change after they are written: no events.
            StripeResource(
                "balance_transactions", "balance_transaction", stripe.BalanceTransaction, ("txn_",)
            ),
            StripeResource(
                "customers",
                "customer",
                stripe.Customer,
                ("cus_",),
                events=("customer.created", "customer.deleted", "customer.updated"),
                deletion_events=("customer.deleted",),
            ),
            # Prices made from legacy plans keep the plan's id, which the account could choose.
            StripeResource(
                "prices",
                "price",
                stripe.Price,
                ("price_", "plan_"),
                custom_ids=True,
                events=("price.created", "price.deleted", "price.updated"),
                deletion_events=("price.deleted",),
            ),
        )
    }
)

RESOURCE_NAMES: tuple[str, ...] = tuple(RESOURCES)


def get_resource(name: str) -> StripeResource:
    """The resource called `name`, or a ValueError that lists the valid names."""
    try:
        return RESOURCES[name]
    except KeyError:
        raise ValueError(
            f"unknown Stripe resource {name!r}; expected one of: {', '.join(RESOURCE_NAMES)}"
        ) from None
