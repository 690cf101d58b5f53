"""Coupons along their lifecycle: renamed or tagged (all Stripe lets change), or deleted."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_assets_emulator.lifecycles_promotion_codes import codes_follow_coupon

if TYPE_CHECKING:
    from stripe_assets_emulator.lifecycles import Change, Changer


def coupon_updated(changer: Changer, change: Change) -> None:
    r = changer.draws(change)
    rename = r.random() < 0.5
    number = r.randrange(10000)

    def edit(c: dict[str, Any]) -> None:
        if rename:
            c["name"] = f"{c['name']} ({number % 100})"
        else:
            c["metadata"] = {**c["metadata"], "campaign": f"CMP-{number:04d}"}

    changer.update(change, "coupons", edit, "coupon.updated")


def coupon_deleted(changer: Changer, change: Change) -> None:
    # The event carries the coupon as it was; from now on it is a deleted stub, no longer listed.
    day, slot = change.place
    served = changer.ds.served("coupons", day, slot)
    changer.ds.delete("coupons", day, slot)
    changer.emit(change, "coupon.deleted", served, None)
    codes_follow_coupon(changer, change)
