"""Products along their lifecycle: edited, archived, and deleted once no price points at them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_assets_emulator.vocab import PRODUCT_NAMES

if TYPE_CHECKING:
    from stripe_assets_emulator.lifecycles import Change, Changer


def product_updated(changer: Changer, change: Change) -> None:
    r = changer.draws(change)
    what = r.choice(("name", "description", "metadata", "active"))
    name = r.choice(PRODUCT_NAMES)
    number = r.randrange(10000)

    def edit(p: dict[str, Any]) -> None:
        if what == "name":
            p["name"] = name if name != p["name"] else f"{name} (renamed)"
        elif what == "description":
            p["description"] = f"{p['name']}, edition {number % 100}"
        elif what == "metadata":
            p["metadata"] = {**p["metadata"], "catalog_ref": f"SKU-{number:04d}"}
        else:  # archived, or offered again
            p["active"] = not p["active"]
        p["updated"] = change.at

    changer.update(change, "products", edit, "product.updated")


def product_deleted(changer: Changer, change: Change) -> None:
    # The event carries the product as it was; from now on it is a deleted stub, no longer listed.
    day, slot = change.place
    served = changer.ds.served("products", day, slot)
    changer.ds.delete("products", day, slot)
    changer.emit(change, "product.deleted", served, None)
