"""The names one component's definitions take in a Dagster project.

Dagster merges the definitions of every component of a project into one set, where a resource
key, a job, schedule or sensor name means one thing. A project's only Stripe component (and
`build_stripe_definitions` alone) keeps the plain names: resources `stripe_api` and
`stripe_warehouse`, `rollback_job`, `<dataflow>_schedule`. Of several Stripe components (two
Stripe accounts, a platform and a separate account), each ends its names in `_<folder>`, the
folder of its defs.yaml below the defs folder (`defs/eu/stripe` -> `_eu_stripe`), so its assets,
checks, schedules and jobs use its own key, API base, warehouse and dataflows. Asset keys are not
renamed: the translator is the tool for those. The dead-run sensor watches the whole instance:
only the first of them (by folder) with `operations` on adds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from stripe_assets.component_names import folder_suffix
from stripe_assets.dagster.resources import STRIPE_API_KEY, WAREHOUSE_KEY, StripeApiResource, WarehouseResource


@dataclass(frozen=True)
class Scope:
    suffix: str = ""  # "" alone in the project; else `_<folder>`
    instance_sensors: bool = True  # adds the instance-wide sensors (see `StripeParts.operations`)

    def name(self, plain: str) -> str:
        return plain + self.suffix

    @property
    def api_key(self) -> str:
        return self.name(STRIPE_API_KEY)

    @property
    def warehouse_key(self) -> str:
        return self.name(WAREHOUSE_KEY)

    @property
    def resource_keys(self) -> set[str]:
        return {self.api_key, self.warehouse_key}

    def api(self, context: Any) -> StripeApiResource:
        """This scope's API resource in a run (`context.resources`, as Dagster set it up)."""
        return getattr(context.resources, self.api_key)

    def warehouse(self, context: Any) -> WarehouseResource:
        return getattr(context.resources, self.warehouse_key)


ALONE = Scope()  # the plain names


def component_scope(context: dg.ComponentLoadContext) -> Scope:
    """The plain names for a project's only Stripe component, its folder's for one of several."""
    import stripe_assets  # the public class, as a project's own code subclasses it

    tree = context.component_tree
    try:
        found = {
            Path(decl.context.path): loc
            for loc, decl in tree.find_root_decl().iterate_loc_component_decl_pairs()
            if isinstance(decl.component_type, type)
            and issubclass(decl.component_type, stripe_assets.StripeAssetsComponent)
        }
    except Exception:  # built outside a project's tree (a test's context): alone
        return Scope()
    if len(found) <= 1:
        return Scope()
    path = Path(context.path)
    operating = [folder for folder in sorted(found) if getattr(tree.load_component(found[folder]), "operations", False)]
    return Scope(folder_suffix(path, Path(tree.defs_module_path)), bool(operating) and operating[0] == path)
