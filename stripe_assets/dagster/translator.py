"""How each dataflow's asset shows in Dagster: a translator a project overrides, as with dagster-dlt.

The factory builds each asset with its spec (key `stripe/<resource>`, its resource's group, column schema,
table name, kinds, freshness policy) and asks the translator for the spec to use instead:

    class MyTranslator(StripeAssetsTranslator):
        def get_asset_spec(self, data: StripeAssetData) -> dg.AssetSpec:
            return super().get_asset_spec(data).replace_attributes(group_name="finance", owners=["team:data"])
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

from stripe_assets.catalog import StripeResource
from stripe_assets.dataflows.config import Dataflow


@dataclass(frozen=True)
class StripeAssetData:
    """What the translator sees of one dataflow: the dataflow, its resource's declaration, and
    the spec the factory made for it."""

    dataflow: Dataflow
    resource: StripeResource
    spec: dg.AssetSpec


class StripeAssetsTranslator:
    """The default keeps the factory's spec; override `get_asset_spec` to change it."""

    def get_asset_spec(self, data: StripeAssetData) -> dg.AssetSpec:
        return data.spec
