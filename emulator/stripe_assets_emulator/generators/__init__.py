"""The emulator's per-resource generators: one module per Stripe resource, found by name.

`generators/<resource>.py` defines `GENERATOR`, a `Generator` subclass saying how many objects a
generated day holds, when each was created, how to build one, which list filters Stripe accepts
for the resource and how its objects break when the emulator serves invalid ones. Everything
else (ids, list order and cursors, `created` filters, retrieval, expansion, faults) is shared.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from stripe_assets.catalog import RESOURCE_NAMES

if TYPE_CHECKING:
    from stripe_assets_emulator.config import InvalidKind
    from stripe_assets_emulator.dataset import Dataset, Predicate
    from stripe_assets_emulator.invalid import Breakage
    from stripe_assets_emulator.objects import ObjectBuilder
    from stripe_assets_emulator.plans import Plans

GENERATORS_DIR = "emulator/stripe_assets_emulator/generators"

Filter = Callable[["Dataset", str], "Predicate"]  # (data set, requested value) -> which objects match


class MissingGeneratorError(ValueError):
    """A declared resource the emulator cannot serve."""


class Generator:
    """One resource's synthetic objects, for one data set."""

    resource: ClassVar[str]
    # None: the resource is counted per day (`per_day`); otherwise what its objects follow.
    follows: ClassVar[str | None] = None
    # Resources that must have objects (per_day > 0) for this one to be generated.
    needs: ClassVar[tuple[str, ...]] = ()
    # The list filters Stripe accepts besides limit, cursors, created and expand.
    filters: ClassVar[Mapping[str, Filter]] = {}
    # Filters that read an object's current state on every day (not only after the window).
    current_state_filters: ClassVar[frozenset[str]] = frozenset()
    # For each way of serving an object invalid: the field broken and how.
    breakages: ClassVar[Mapping[InvalidKind, Breakage]]

    def __init__(self, plans: Plans, builder: ObjectBuilder):
        self.plans = plans
        self.builder = builder

    def count(self, day: int) -> int:
        """Objects created on a generated day."""
        return self.plans.config.count_per_day(self.resource)

    def created(self, day: int) -> Sequence[int]:
        """Their creation times, in slot order (ascending)."""
        raise NotImplementedError

    def build(self, day: int, slot: int) -> dict[str, Any]:
        """The object at a position, as Stripe would show it at the end of the generated window."""
        raise NotImplementedError

    def later_filter(self, ds: Dataset, name: str, value: str) -> Predicate:
        """A filter over objects created after the window (no day plan describes them): the
        value, already checked by the planned filter, against the field of the same name."""
        return lambda day, slot: ds.current(self.resource, day, slot).get(name) == value

    def hidden(self, ds: Dataset, filters: Mapping[str, str]) -> Predicate | None:
        """What Stripe leaves out of a list unless asked (None: nothing)."""
        return None


@functools.cache
def _discovered() -> dict[str, type[Generator]]:
    found: dict[str, type[Generator]] = {}
    for module in pkgutil.iter_modules(__path__):
        generator = getattr(importlib.import_module(f"{__name__}.{module.name}"), "GENERATOR", None)
        if generator is not None:
            found[generator.resource] = generator
    return found


def generator_class(resource: str) -> type[Generator]:
    """The generator of a declared resource, or an error saying where to add one."""
    found = _discovered().get(resource)
    if found is None:
        raise MissingGeneratorError(
            f"the emulator has no generator for {resource!r}: add {GENERATORS_DIR}/{resource}.py "
            "defining GENERATOR (see charges.py there)"
        )
    return found


def generator_classes() -> dict[str, type[Generator]]:
    """Every declared resource's generator, in catalog order."""
    return {name: generator_class(name) for name in RESOURCE_NAMES}
