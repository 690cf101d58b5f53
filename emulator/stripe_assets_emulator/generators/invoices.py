"""Invoices: each subscription's first invoice, created with it (`billing_reason:
subscription_create`), billed for its first period (a trial's is a zero-amount invoice).

How it ends depends on the subscription: paid at once when charged automatically, open while an
incomplete subscription waits for its first payment, voided when it expired, and for invoices
sent to the customer, paid within their 30 days or still open at the end of the window.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any, NamedTuple

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.stripe_schema import resource_fields
from stripe_assets_emulator import ids
from stripe_assets_emulator.credits import Credits
from stripe_assets_emulator.dataset import Dataset, Predicate
from stripe_assets_emulator.filters import NOTHING, field_equals, ref_of
from stripe_assets_emulator.generators import Generator
from stripe_assets_emulator.invalid import Breakage
from stripe_assets_emulator.objects import ObjectBuilder
from stripe_assets_emulator.periods import add_interval
from stripe_assets_emulator.plans import DAY_SECONDS, INCOMPLETE_WINDOW, TAGS, Plans, unref
from stripe_assets_emulator.query import parse_choice
from stripe_assets_emulator.rng import Draws, Purpose

ACCOUNT = "acct_1ExampleSaaS0000"
_LINE, _URL = 1, 2  # discriminators of the invoice's related ids
_EXTRA_LINE = 1000  # discriminator of the n-th extra line: _EXTRA_LINE + n
# Stripe embeds an invoice's first 10 lines; the rest are read from /v1/invoices/{id}/lines.
EMBEDDED_LINES = 10
# One invoice in EXTRA_LINES_EVERY also bills included seats, one zero-amount line each: more
# lines than embedded, so readers must page past the embedded ones.
EXTRA_LINES_EVERY = 5


class _Outcome(NamedTuple):
    status: str
    paid_at: int | None
    voided_at: int | None
    attempt_count: int


def _customer(ds: Dataset, value: str) -> Predicate:
    wanted = ref_of(ds, "customers", value)
    return NOTHING if wanted is None else (lambda d, s: ds.plans.subscriptions(d).customer[s] == wanted)


def _subscription(ds: Dataset, value: str) -> Predicate:
    found = ds.locate("subscriptions", value)  # a subscription's first invoice sits at its position
    return NOTHING if found is None else (lambda d, s: (d, s) == found)


def _status(ds: Dataset, value: str) -> Predicate:
    parse_choice("status", value, resource_fields(get_resource("invoices"))["status"].enum or ())
    invoices = ds.generator(Invoices)
    return lambda d, s: invoices.outcome(d, s).status == value


def _collection_method(ds: Dataset, value: str) -> Predicate:
    parse_choice("collection_method", value, resource_fields(get_resource("invoices"))["collection_method"].enum or ())
    return field_equals(ds, "invoices", "collection_method", value)


class Invoices(Generator):
    resource = "invoices"
    follows = "subscriptions (each subscription's first invoice, created with it)"
    filters = MappingProxyType(
        {
            "customer": _customer,
            "subscription": _subscription,
            "status": _status,
            "collection_method": _collection_method,
        }
    )
    breakages = MappingProxyType(
        {
            "wrong_type": Breakage("amount_due", lambda v: str(v)),
            "unknown_enum": Breakage("billing_reason", lambda v: "renewal"),
            "missing_required": Breakage("currency", None),
            "null_required": Breakage("total", lambda v: None),
        }
    )

    def __init__(self, plans: Plans, builder: ObjectBuilder):
        super().__init__(plans, builder)
        self.outcome = functools.lru_cache(maxsize=16384)(self._outcome)
        self.credits = Credits(plans, self.outcome)

    def count(self, day: int) -> int:
        return len(self.created(day))

    def created(self, day: int) -> Sequence[int]:
        return self.plans.subscriptions(day).created

    def _outcome(self, day: int, slot: int) -> _Outcome:
        """How the invoice ended up by the end of the window (its status and when)."""
        sub = self.builder.subscription(day, slot)
        created, end = sub["created"], self.plans.end
        if sub["status"] == "incomplete":  # the first payment is still to be completed
            return _Outcome("open", None, None, 1)
        if sub["status"] == "incomplete_expired":  # Stripe voids it when the subscription expires
            return _Outcome("void", None, created + INCOMPLETE_WINDOW, 1)
        if sub["collection_method"] == "charge_automatically" or sub["trial_end"] is not None:
            return _Outcome("paid", created, None, 1)
        r = Draws(self.plans.seed, TAGS["invoices"], day, slot, Purpose.OBJECT)
        paid_at = created + int(r.random() * sub["days_until_due"] * DAY_SECONDS)
        if r.random() < 0.85 and paid_at <= end:
            return _Outcome("paid", paid_at, None, 1)
        return _Outcome("open", None, None, 0)

    def build(self, day: int, slot: int) -> dict[str, Any]:
        sub = self.builder.subscription(day, slot)
        customer = self.builder.customer(*unref(self.plans.subscriptions(day).customer[slot]))
        item = sub["items"]["data"][0]
        price, quantity = item["price"], item["quantity"]
        created = sub["created"]
        trial_end = sub["trial_end"]
        recurring = price["recurring"]
        period_end = trial_end or add_interval(created, recurring["interval"], recurring["interval_count"])
        subtotal = 0 if trial_end is not None else price["unit_amount"] * quantity
        outcome = self.outcome(day, slot)
        paid = outcome.status == "paid"
        invoice_id = self.builder.object_id("invoices", day, slot)
        url = ids.related_id("", 40, self.plans.seed, TAGS["invoices"], day, slot, _URL)
        product = price["nickname"] or "Subscription"
        automatic = sub["collection_method"] == "charge_automatically"
        line = {
            "id": "il_" + ids.related_id("", 24, self.plans.seed, TAGS["invoices"], day, slot, _LINE),
            "object": "line_item",
            "amount": subtotal,
            "currency": sub["currency"],
            "description": f"Trial period for {product}" if trial_end is not None else f"{quantity} × {product}",
            "discount_amounts": [],
            "discountable": True,
            "discounts": [],
            "invoice": invoice_id,
            "livemode": False,
            "metadata": {},
            "parent": {
                "invoice_item_details": None,
                "subscription_item_details": {
                    "invoice_item": None,
                    "proration": False,
                    "proration_details": None,
                    "subscription": sub["id"],
                    "subscription_item": item["id"],
                },
                "type": "subscription_item_details",
            },
            "period": {"end": period_end, "start": created},
            "pretax_credit_amounts": [],
            "pricing": {
                "price_details": {"price": price["id"], "product": price["product"]},
                "type": "price_details",
                "unit_amount_decimal": price["unit_amount_decimal"],
            },
            "quantity": quantity,
            "subscription": sub["id"],
            "subtotal": subtotal,
            "taxes": [],
        }
        extra = self.extra_lines(day, slot, invoice_id, sub, (created, period_end))
        fields: dict[str, Any] = {
            "account_country": "US",
            "account_name": "Example SaaS",
            "account_tax_ids": None,
            "amount_due": subtotal,
            "amount_overpaid": 0,
            "amount_paid": subtotal if paid else 0,
            "amount_paid_off_stripe": 0,
            "amount_remaining": subtotal if outcome.status == "open" else 0,
            "amount_shipping": 0,
            "application": None,
            "attempt_count": outcome.attempt_count,
            "attempted": outcome.attempt_count > 0,
            "auto_advance": outcome.status == "open" and automatic,
            "automatic_tax": {
                "disabled_reason": None, "enabled": False, "liability": None, "provider": None, "status": None,
            },
            "automatically_finalizes_at": None,
            "billing_reason": "subscription_create",
            "collection_method": sub["collection_method"],
            "created": created,
            "currency": sub["currency"],
            "custom_fields": None,
            "customer": sub["customer"],
            "customer_account": None,
            "customer_address": customer["address"],
            "customer_email": customer["email"],
            "customer_name": customer["name"],
            "customer_phone": customer["phone"],
            "customer_shipping": None,
            "customer_tax_exempt": customer["tax_exempt"],
            "customer_tax_ids": [],
            "default_payment_method": None,
            "default_source": None,
            "default_tax_rates": [],
            "description": None,
            "discounts": [],
            "due_date": None if automatic else created + sub["days_until_due"] * DAY_SECONDS,
            "effective_at": created,
            "ending_balance": 0,
            "footer": None,
            "from_invoice": None,
            "hosted_invoice_url": f"https://invoice.stripe.com/i/{ACCOUNT}/test_{url}?s=ap",
            "invoice_pdf": f"https://pay.stripe.com/invoice/{ACCOUNT}/test_{url}/pdf?s=ap",
            "issuer": {"type": "self"},
            "last_finalization_error": None,
            "latest_revision": None,
            "lines": {
                "object": "list",
                "data": [line, *extra][: EMBEDDED_LINES],
                "has_more": 1 + len(extra) > EMBEDDED_LINES,
                "total_count": 1 + len(extra),
                "url": f"/v1/invoices/{invoice_id}/lines",
            },
            "livemode": False,
            "metadata": {},
            "next_payment_attempt": None,
            "number": f"{customer['invoice_prefix']}-0001",
            "on_behalf_of": None,
            "parent": {
                "quote_details": None,
                "subscription_details": {
                    "metadata": {},
                    "subscription": sub["id"],
                    "subscription_proration_date": None,
                },
                "type": "subscription_details",
            },
            "payment_settings": {"default_mandate": None, "payment_method_options": None, "payment_method_types": None},
            # A subscription's first invoice bills ahead: its own period is the instant it was made.
            "period_end": created,
            "period_start": created,
            # What its credit note (issued after payment) credits, if it has one.
            "post_payment_credit_notes_amount": self.credits.amount(day, slot, subtotal)
            if slot in self.credits.credited(day)
            else 0,
            "pre_payment_credit_notes_amount": 0,
            "receipt_number": None,
            "rendering": None,
            "shipping_cost": None,
            "shipping_details": None,
            "starting_balance": 0,
            "statement_descriptor": None,
            "status": outcome.status,
            "status_details": None,
            "status_transitions": {
                "finalized_at": created,
                "marked_uncollectible_at": None,
                "paid_at": outcome.paid_at,
                "voided_at": outcome.voided_at,
            },
            "subtotal": subtotal,
            "subtotal_excluding_tax": subtotal,
            "test_clock": None,
            "threshold_reason": None,
            "total": subtotal,
            "total_discount_amounts": [],
            "total_excluding_tax": subtotal,
            "total_pretax_credit_amounts": [],
            "total_taxes": [],
            "webhooks_delivered_at": created,
        }
        return {"id": invoice_id, "object": "invoice", **fields}

    def extra_lines(
        self, day: int, slot: int, invoice_id: str, sub: dict[str, Any], period: tuple[int, int]
    ) -> list[dict[str, Any]]:
        """The invoice's lines after its subscription's: zero-amount included seats (11 to 14 of
        them on one invoice in EXTRA_LINES_EVERY, none on the others)."""
        if slot % EXTRA_LINES_EVERY != EXTRA_LINES_EVERY - 1:
            return []
        item = sub["items"]["data"][0]
        price = item["price"]
        return [
            {
                "id": "il_" + ids.related_id("", 24, self.plans.seed, TAGS["invoices"], day, slot, _EXTRA_LINE + n),
                "object": "line_item",
                "amount": 0,
                "currency": sub["currency"],
                "description": f"Included seat {n + 2}",
                "discount_amounts": [],
                "discountable": False,
                "discounts": [],
                "invoice": invoice_id,
                "livemode": False,
                "metadata": {},
                "parent": {
                    "invoice_item_details": {
                        "invoice_item": "ii_" + ids.related_id(
                            "", 24, self.plans.seed, TAGS["invoices"], day, slot, _EXTRA_LINE + 100 + n
                        ),
                        "proration": False,
                        "proration_details": {"credited_items": None},
                        "subscription": sub["id"],
                    },
                    "subscription_item_details": None,
                    "type": "invoice_item_details",
                },
                "period": {"end": period[1], "start": period[0]},
                "pretax_credit_amounts": [],
                "pricing": {
                    "price_details": {"price": price["id"], "product": price["product"]},
                    "type": "price_details",
                    "unit_amount_decimal": "0",
                },
                "quantity": 1,
                "subscription": sub["id"],
                "subtotal": 0,
                "taxes": [],
            }
            for n in range(11 + slot % 4)
        ]


GENERATOR = Invoices
