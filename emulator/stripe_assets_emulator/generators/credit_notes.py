"""Credit notes: about one paid invoice in ten is credited one to three days later, for all of
it or a part (the plan is `credits.py`).

The invoice was paid, so the note is `post_payment`, credited outside Stripe
(`out_of_band_amount`); the invoice shows it in `post_payment_credit_notes_amount`. Its one line
credits the invoice's line; the embedded `lines` list is complete. Notes are edited or voided as
the clock moves on (`lifecycles_credit_notes.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

from stripe_assets_emulator import ids
from stripe_assets_emulator.dataset import Dataset, Predicate
from stripe_assets_emulator.filters import NOTHING, field_equals
from stripe_assets_emulator.generators import Generator
from stripe_assets_emulator.generators.invoices import Invoices
from stripe_assets_emulator.invalid import Breakage
from stripe_assets_emulator.objects import ObjectBuilder
from stripe_assets_emulator.plans import TAGS, Plans
from stripe_assets_emulator.rng import Draws, Purpose

REASONS = ("duplicate", "fraudulent", "order_change", "product_unsatisfactory", None)
MEMOS = (None, None, "Credit for service interruption", "Goodwill credit")
_LINE, _PDF = 1, 2  # discriminators of related ids


def _invoice(ds: Dataset, value: str) -> Predicate:
    found = ds.locate("invoices", value)
    if found is None:
        return NOTHING
    generator = ds.generator(CreditNotes)
    return lambda d, s: generator.invoice_of(d, s) == found


def _customer(ds: Dataset, value: str) -> Predicate:
    return field_equals(ds, "credit_notes", "customer", value)


class CreditNotes(Generator):
    resource = "credit_notes"
    follows = "invoices (about one paid invoice in ten, credited within three days)"
    filters = MappingProxyType({"invoice": _invoice, "customer": _customer})
    breakages = MappingProxyType({
        "wrong_type": Breakage("amount", lambda v: str(v)),
        "unknown_enum": Breakage("status", lambda v: "pending"),
        "missing_required": Breakage("currency", None),
        "null_required": Breakage("total", lambda v: None),
    })

    def __init__(self, plans: Plans, builder: ObjectBuilder):
        super().__init__(plans, builder)
        self.invoices = Invoices(plans, builder)

    def count(self, day: int) -> int:
        return len(self.invoices.credits.day(day))

    def created(self, day: int) -> Sequence[int]:
        return [created for created, _, _ in self.invoices.credits.day(day)]

    def invoice_of(self, day: int, slot: int) -> tuple[int, int]:
        """The (day, slot) of the invoice a credit note credits."""
        _, invoice_day, invoice_slot = self.invoices.credits.day(day)[slot]
        return invoice_day, invoice_slot

    def build(self, day: int, slot: int) -> dict[str, Any]:
        created, invoice_day, invoice_slot = self.invoices.credits.day(day)[slot]
        invoice = self.invoices.build(invoice_day, invoice_slot)
        amount = invoice["post_payment_credit_notes_amount"]
        r = Draws(self.plans.seed, TAGS["credit_notes"], day, slot, Purpose.OBJECT)
        reason, memo = r.choice(REASONS), r.choice(MEMOS)
        cn_id = self.builder.object_id("credit_notes", day, slot)
        key = (self.plans.seed, TAGS["credit_notes"], day, slot)
        # An invoice of one line is credited against that line; one of several lines by a custom
        # line of the credited amount (Stripe's `custom_line_item`), so no line is over-credited.
        lines = invoice["lines"]["data"]
        invoice_line = lines[0] if len(lines) == 1 else None
        line = {
            "id": ids.related_id("cnli_", 24, *key, _LINE),
            "object": "credit_note_line_item",
            "amount": amount,
            "description": invoice_line["description"] if invoice_line else "Credit",
            "discount_amount": 0,
            "discount_amounts": [],
            "invoice_line_item": invoice_line["id"] if invoice_line else None,
            "livemode": False,
            "metadata": {},
            "pretax_credit_amounts": [],
            "quantity": 1,
            "tax_rates": [],
            "taxes": [],
            "type": "invoice_line_item" if invoice_line else "custom_line_item",
            "unit_amount": None if invoice_line else amount,
            "unit_amount_decimal": None if invoice_line else str(amount),
        }
        pdf = ids.random_chars(40, *key, Purpose.RELATED_ID, _PDF)
        return {
            "id": cn_id,
            "object": "credit_note",
            "amount": amount,
            "amount_shipping": 0,
            "created": created,
            "currency": invoice["currency"],
            "customer": invoice["customer"],
            "customer_balance_transaction": None,
            "discount_amount": 0,
            "discount_amounts": [],
            "effective_at": created,
            "invoice": invoice["id"],
            "lines": {
                "object": "list",
                "data": [line],
                "has_more": False,
                "total_count": 1,
                "url": f"/v1/credit_notes/{cn_id}/lines",
            },
            "livemode": False,
            "memo": memo,
            "metadata": {},
            "number": f"{invoice['number']}-CN-01",
            "out_of_band_amount": amount,
            "pdf": f"https://pay.stripe.com/credit_notes/acct_1ExampleSaaS0000/test_{pdf}/pdf",
            "post_payment_amount": amount,
            "pre_payment_amount": 0,
            "pretax_credit_amounts": [],
            "reason": reason,
            "refunds": [],
            "shipping_cost": None,
            "status": "issued",
            "subtotal": amount,
            "subtotal_excluding_tax": amount,
            "total": amount,
            "total_excluding_tax": amount,
            "total_taxes": [],
            "type": "post_payment",
            "voided_at": None,
        }


GENERATOR = CreditNotes
