"""What Dagster calls a resource's data: the asset `stripe/<resource>`."""

from __future__ import annotations

import dagster as dg

from stripe_assets.catalog import get_resource


def asset_key(resource: str) -> dg.AssetKey:
    """The asset key of a declared resource (an unknown name says where to declare it)."""
    return dg.AssetKey(get_resource(resource).asset_path)
