"""The six Stripe resources this project ingests, described once as data.

Everything else (client paging, table names, asset keys, the emulator) looks resources up here
instead of repeating paths, object names or id prefixes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

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
            StripeResource("charges", "charge", stripe.Charge, ("ch_", "py_")),
            # Without status=all Stripe's list omits canceled subscriptions.
            StripeResource(
                "subscriptions",
                "subscription",
                stripe.Subscription,
                ("sub_",),
                MappingProxyType({"status": "all"}),
            ),
            StripeResource("refunds", "refund", stripe.Refund, ("re_", "pyr_")),
            StripeResource(
                "balance_transactions", "balance_transaction", stripe.BalanceTransaction, ("txn_",)
            ),
            StripeResource("customers", "customer", stripe.Customer, ("cus_",)),
            # Prices made from legacy plans keep the plan's id, which the account could choose.
            StripeResource("prices", "price", stripe.Price, ("price_", "plan_"), custom_ids=True),
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
