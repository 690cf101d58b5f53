"""The suffix that ends the Dagster names (resource keys, schedules, jobs) of one of several
Stripe components in a project; read by the component (`stripe_assets.dagster.scope`) and by
the commands (`stripe_assets.operations.project`), so both name a schedule alike."""

from __future__ import annotations

import re
from pathlib import Path


def folder_suffix(folder: Path, defs_root: Path) -> str:
    """`_<folder>`: the component's defs.yaml folder below the defs folder (`defs/eu/stripe` ->
    `_eu_stripe`), in the characters Dagster allows in names."""
    relative = folder.relative_to(defs_root) if folder.is_relative_to(defs_root) else Path(folder.name)
    slug = re.sub(r"[^A-Za-z0-9_]+", "_", "_".join(relative.parts)).strip("_")
    return f"_{slug}" if slug else ""
