"""stripe-assets: Stripe data as validated, time-partitioned Dagster assets in DuckDB.

The public surface is the Dagster layer's (`stripe_assets.dagster`): `StripeAssetsComponent`
(for `dg scaffold defs stripe_assets.StripeAssetsComponent <name>`), `StripeAssetsTranslator`,
the resources and the asset/check factory. They are imported on first use, so the data path
(`stripe_assets.ingest`, `stripe_assets.catalog`) can be used without importing Dagster.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stripe_assets.dagster import (
        StripeApiResource,
        StripeAssetData,
        StripeAssetsComponent,
        StripeAssetsTranslator,
        StripeDefinitions,
        StripeParts,
        WarehouseResource,
        build_dataflow_asset,
        build_stripe_definitions,
    )

__all__ = [
    "StripeApiResource",
    "StripeAssetData",
    "StripeAssetsComponent",
    "StripeAssetsTranslator",
    "StripeDefinitions",
    "StripeParts",
    "WarehouseResource",
    "build_dataflow_asset",
    "build_stripe_definitions",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("stripe_assets.dagster"), name)
    raise AttributeError(f"module 'stripe_assets' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
