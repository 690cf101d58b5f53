"""Credit notes along their lifecycle: edited (memo, metadata: all Stripe lets change on an
issued note) or voided. A voided note no longer counts on its invoice: the invoice's
`post_payment_credit_notes_amount` drops by its amount (`invoice.updated`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_assets_emulator.events import previous_attributes
from stripe_assets_emulator.generators.credit_notes import CreditNotes

if TYPE_CHECKING:
    from stripe_assets_emulator.lifecycles import Change, Changer


def credit_note_updated(changer: Changer, change: Change) -> None:
    r = changer.draws(change)
    memo = r.random() < 0.5
    number = r.randrange(10000)

    def edit(cn: dict[str, Any]) -> None:
        if memo:
            cn["memo"] = f"Credit agreed with the customer (case {number:04d})"
        else:
            cn["metadata"] = {**cn["metadata"], "case": f"CASE-{number:04d}"}

    changer.update(change, "credit_notes", edit, "credit_note.updated")


def credit_note_voided(changer: Changer, change: Change) -> None:
    ds = changer.ds
    generator = ds.generator(CreditNotes)

    def void(cn: dict[str, Any]) -> None:
        cn["status"] = "void"
        cn["voided_at"] = change.at

    note = changer.update(change, "credit_notes", void, "credit_note.voided")
    place = generator.invoice_of(*change.place)
    old = ds.current("invoices", *place)
    new = {**old, "post_payment_credit_notes_amount": old["post_payment_credit_notes_amount"] - note["amount"]}
    ds.put("invoices", *place, new)
    changer.emit(change, "invoice.updated", ds.served("invoices", *place), previous_attributes(old, new))
