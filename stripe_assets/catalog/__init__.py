"""The Stripe resources this project ingests: one declaration module each, found here.

A resource is declared by a module of this package that defines `RESOURCE`, a
`StripeResource` (see `declaration.py` for its fields; `charges.py` is an example). Everything
else looks resources up here: the client's paging, columns and validation, tables, assets,
checks and schedules, the CLI and the emulator.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from collections.abc import Mapping
from types import MappingProxyType

from stripe_assets.catalog.declaration import StripeResource

__all__ = ["RESOURCES", "RESOURCE_NAMES", "StripeResource", "UnknownResourceError", "get_resource"]

DECLARATIONS_DIR = "stripe_assets/catalog"


class UnknownResourceError(ValueError):
    """A resource name no module of this package declares."""


def _declared() -> dict[str, StripeResource]:
    found: list[StripeResource] = []
    for module in pkgutil.iter_modules(__path__):
        declared = getattr(importlib.import_module(f"{__name__}.{module.name}"), "RESOURCE", None)
        if isinstance(declared, StripeResource):
            if declared.name != module.name:
                raise ValueError(f"{DECLARATIONS_DIR}/{module.name}.py declares {declared.name!r}: name them alike")
            found.append(declared)
    ordinals = [r.ordinal for r in found]
    if len(set(ordinals)) != len(ordinals):
        raise ValueError(f"two resources in {DECLARATIONS_DIR} share an ordinal: {sorted(ordinals)}")
    return {r.name: r for r in sorted(found, key=lambda r: r.ordinal)}


RESOURCES: Mapping[str, StripeResource] = MappingProxyType(_declared())

RESOURCE_NAMES: tuple[str, ...] = tuple(RESOURCES)


def get_resource(name: str) -> StripeResource:
    """The resource called `name`, or an error naming the declared ones and where to declare it."""
    try:
        return RESOURCES[name]
    except (KeyError, TypeError):
        declared = ", ".join(RESOURCE_NAMES)
        # A near miss (`charge`, `invoice`) is a typo, not a new resource to declare.
        near = difflib.get_close_matches(str(name).lower(), RESOURCE_NAMES, n=1, cutoff=0.75)
        if near:
            raise UnknownResourceError(
                f"unknown Stripe resource {name!r}: did you mean {near[0]!r}? (declared: {declared})"
            ) from None
        raise UnknownResourceError(
            f"unknown Stripe resource {name!r} (declared: {declared}); "
            f"to add it, declare it in {DECLARATIONS_DIR}/{name}.py"
        ) from None
