"""The Dagster layer: resources, the translator, the asset/check factory and the component.

Everything Dagster-typed lives here (and in `stripe_assets.defs`, this project's own code
location); the catalog and the data path below it import no Dagster.
"""

from stripe_assets.dagster.assets import CHECK_NAME, build_stripe_asset
from stripe_assets.dagster.component import StripeAssetsComponent
from stripe_assets.dagster.factory import (
    StripeDefinitions,
    StripeParts,
    build_dataflow_asset,
    build_stripe_definitions,
)
from stripe_assets.dagster.resources import (
    STRIPE_API_KEY,
    WAREHOUSE_KEY,
    StripeApiResource,
    WarehouseResource,
    environment_resources,
)
from stripe_assets.dagster.scope import Scope
from stripe_assets.dagster.translator import StripeAssetData, StripeAssetsTranslator

__all__ = [
    "CHECK_NAME",
    "STRIPE_API_KEY",
    "WAREHOUSE_KEY",
    "Scope",
    "StripeApiResource",
    "StripeAssetData",
    "StripeAssetsComponent",
    "StripeAssetsTranslator",
    "StripeDefinitions",
    "StripeParts",
    "WarehouseResource",
    "build_dataflow_asset",
    "build_stripe_asset",
    "build_stripe_definitions",
    "environment_resources",
]
