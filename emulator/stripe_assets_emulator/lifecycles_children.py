"""Child lists along their parents' lifecycles: a subscription item's quantity or price changes
(`customer.subscription.updated`), and cards are attached to or detached from customers
(`payment_method.attached` / `payment_method.detached`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stripe_assets_emulator.lifecycles import Change, Changer


def subscription_item_updated(changer: Changer, change: Change) -> None:
    """One more seat on the subscription's first item, or the item's metadata edited."""
    r = changer.draws(change)
    more = r.random() < 0.7

    def edit(sub: dict[str, Any]) -> None:
        items = sub["items"]
        first = dict(items["data"][0])
        if more:
            first["quantity"] = first["quantity"] + 1
        else:
            first["metadata"] = {**first["metadata"], "plan_change": f"{changer.advance}.{change.number}"}
        sub["items"] = {**items, "data": [first, *items["data"][1:]]}

    changer.update(change, "subscriptions", edit, "customer.subscription.updated")


def payment_method_attached(changer: Changer, change: Change) -> None:
    from stripe_assets_emulator.children import new_payment_method

    day, slot = change.place
    customer = changer.ds.served("customers", day, slot)
    number = len(changer.ds.live.attached.get((day, slot), []))
    method = new_payment_method(changer.ds, customer, changer.related_id("pm_", change, number), change.at)
    changer.ds.live.attached.setdefault((day, slot), []).append(method)
    changer.emit(change, "payment_method.attached", method, None)


def payment_method_detached(changer: Changer, change: Change) -> None:
    from stripe_assets_emulator.children import children

    day, slot = change.place
    methods = children(changer.ds, "payment_methods", day, slot)
    if not methods:  # planned only for customers with one (see changes.py)
        return
    r = changer.draws(change)
    method = methods[int(r.random() * len(methods))]
    changer.ds.live.detached.setdefault((day, slot), set()).add(method["id"])
    # Stripe's detached payment method has no customer any more; the event says which it had.
    changer.emit(change, "payment_method.detached", {**method, "customer": None}, {"customer": method["customer"]})
