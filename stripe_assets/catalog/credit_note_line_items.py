"""Credit note line items: what each credit note credits, one line per invoice line or amount."""

from __future__ import annotations

import stripe

from stripe_assets.catalog.child import ChildOf, StripeChild

RESOURCE = StripeChild(
    name="credit_note_line_items",
    object="credit_note_line_item",
    stripe_class=stripe.CreditNoteLineItem,
    id_prefixes=("cnli_",),
    ordinal=105,
    summary="what each credit note credits: amount, quantity, and the invoice line it credits",
    group="stripe_billing",
    columns=(
        "id", "type", "amount", "quantity", "unit_amount", "description", "invoice_line_item",
        "discount_amount", "livemode", "metadata",
    ),
    # A credit note embeds its first 10 lines; the rest are read from its lines endpoint. A
    # credit note's lines never change once issued (voiding changes the note, not its lines).
    child_of=ChildOf(
        parent="credit_notes", parent_column="credit_note", path="/v1/credit_notes/{id}/lines", embedded="lines"
    ),
)
