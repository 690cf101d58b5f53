"""Promotion codes along their lifecycle: tagged, deactivated, and no longer active once their
coupon is deleted (a code is only active while its coupon is valid)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_assets_emulator.generators.promotion_codes import PromotionCodes

if TYPE_CHECKING:
    from stripe_assets_emulator.lifecycles import Change, Changer


def promotion_code_updated(changer: Changer, change: Change) -> None:
    number = changer.draws(change).randrange(10000)

    def tag(code: dict[str, Any]) -> None:
        code["metadata"] = {**code["metadata"], "channel": f"CH-{number:04d}"}

    changer.update(change, "promotion_codes", tag, "promotion_code.updated")


def promotion_code_deactivated(changer: Changer, change: Change) -> None:
    changer.update(change, "promotion_codes", lambda code: code.update(active=False), "promotion_code.updated")


def codes_follow_coupon(changer: Changer, change: Change) -> None:
    """After the coupon at `change.place` is deleted: its active codes stop being active."""
    ds = changer.ds
    generator = ds.generator(PromotionCodes)
    for day, slot in generator.by_coupon.get(change.place, ()):
        code = ds.current("promotion_codes", day, slot)
        if code["active"]:
            ds.put("promotion_codes", day, slot, {**code, "active": False})
            served = ds.served("promotion_codes", day, slot)
            changer.emit(change, "promotion_code.updated", served, {"active": True})
