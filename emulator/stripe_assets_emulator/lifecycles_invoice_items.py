"""Invoice items along their lifecycle: a pending item (on no invoice yet) is deleted.

Stripe also lets a pending item be edited and pulls it into the customer's next invoice, but
sends no event for either (there is no `invoiceitem.updated`), so the emulator does neither: a
warehouse following Events could not see them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stripe_assets_emulator.lifecycles import Change, Changer


def invoice_item_deleted(changer: Changer, change: Change) -> None:
    # The event carries the item as it was; from now on it is a deleted stub, no longer listed.
    day, slot = change.place
    served = changer.ds.served("invoice_items", day, slot)
    changer.ds.delete("invoice_items", day, slot)
    changer.emit(change, "invoiceitem.deleted", served, None)
