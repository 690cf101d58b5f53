"""Which asset key each resource's runs are recorded under: the key the project's definitions gave
its asset, as its translator made it (`StripeAssetsTranslator.get_asset_spec`), else the
catalog's `stripe/<resource>`.

The project is the Dagster project (`dg`'s: a `pyproject.toml` with `[tool.dg]`, or a `dg.toml`) the
command runs in, or above; its definitions are loaded from its defs folder as `dg` loads them
(`stripe_assets.operations.project`), and each dataflow's asset names its resource in the tag
`stripe_assets/resource`, which the factory sets after the translator. Outside a project, and for
a project without a Stripe component, the catalog's keys apply.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from stripe_assets.catalog import get_resource
from stripe_assets.dataflows.schedules import RESOURCE_TAG


@dataclass(frozen=True)
class AssetKeys:
    """The keys of the project's Stripe assets by resource."""

    by_resource: Mapping[str, dg.AssetKey] = field(default_factory=dict)

    def __call__(self, resource: str) -> dg.AssetKey:
        key = self.by_resource.get(resource)
        return key if key is not None else dg.AssetKey(get_resource(resource).asset_path)


def project_root(start: Path) -> Path | None:
    """The Dagster project folder holding `start`, or None."""
    for folder in (start.absolute(), *start.absolute().parents):
        for name, section in (("dg.toml", ()), ("pyproject.toml", ("tool", "dg"))):
            path = folder / name
            if not path.is_file():
                continue
            try:
                config: object = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                continue
            for part in section:
                config = config.get(part) if isinstance(config, dict) else None
            if isinstance(config, dict) and (config.get("directory_type") == "project" or "project" in config):
                return folder
    return None


def keys_of(defs: dg.Definitions) -> dict[str, dg.AssetKey]:
    """Each resource's asset key in `defs`, from the tag its asset carries."""
    keys: dict[str, dg.AssetKey] = {}
    for spec in defs.resolve_all_asset_specs():
        resource = spec.tags.get(RESOURCE_TAG)
        if resource:
            keys.setdefault(resource, spec.key)
    return keys
