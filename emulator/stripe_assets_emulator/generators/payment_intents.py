"""Payment intents: one per charge, created with it, and each charge's `payment_intent`.

A generated charge is its payment intent's only attempt, so the intent's `latest_charge` is that
charge and its status follows it: `succeeded` once captured, `requires_capture` while a manual
capture waits, `processing` while the charge is pending and `requires_payment_method` after a
declined attempt (with the decline as `last_payment_error` and no payment method kept).
"""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

from stripe_assets_emulator import ids
from stripe_assets_emulator.dataset import Dataset, Predicate
from stripe_assets_emulator.filters import NOTHING, ref_of
from stripe_assets_emulator.generators import Generator
from stripe_assets_emulator.invalid import Breakage
from stripe_assets_emulator.plans import FAILED, PENDING, SETTLED, TAGS, UNCAPTURED
from stripe_assets_emulator.rng import Purpose

_SECRET = 1  # discriminator of the client secret's characters
STATUS_OF_CHARGE = {
    SETTLED: "succeeded",
    UNCAPTURED: "requires_capture",
    PENDING: "processing",
    FAILED: "requires_payment_method",
}
DOC_URL = "https://stripe.com/docs/error-codes/"


def _customer(ds: Dataset, value: str) -> Predicate:
    wanted = ref_of(ds, "customers", value)
    return NOTHING if wanted is None else (lambda d, s: ds.plans.charges(d).customer[s] == wanted)


def payment_intent_of(charge: dict[str, Any], status: str, secret: str) -> dict[str, Any]:
    """The payment intent whose only attempt is `charge`, in `status`."""
    declined = status == "requires_payment_method"
    amount = charge["amount"]
    error = None
    if declined:
        code = charge["failure_code"]
        error = {
            "charge": charge["id"],
            "code": code,
            "decline_code": charge["outcome"]["reason"] if code == "card_declined" else None,
            "doc_url": DOC_URL + code.replace("_", "-"),
            "message": charge["failure_message"],
            "payment_method_type": "card",
            "type": "card_error",
        }
    return {
        "id": charge["payment_intent"],
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": amount if status == "requires_capture" else 0,
        "amount_details": {"tip": {}},
        "amount_received": amount if status == "succeeded" else 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": {"allow_redirects": "always", "enabled": True},
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "manual" if status == "requires_capture" else "automatic_async",
        "client_secret": f"{charge['payment_intent']}_secret_{secret}",
        "confirmation_method": "automatic",
        "created": charge["created"],
        "currency": charge["currency"],
        "customer": charge["customer"],
        "customer_account": None,
        "description": charge["description"],
        "excluded_payment_method_types": None,
        "last_payment_error": error,
        "latest_charge": charge["id"],
        "livemode": False,
        "metadata": charge["metadata"],
        "next_action": None,
        "on_behalf_of": None,
        # A declined attempt detaches its payment method: the customer must give another.
        "payment_method": None if declined else charge["payment_method"],
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {
                "installments": None,
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": ["card"],
        "processing": None,
        "receipt_email": charge["receipt_email"],
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": status,
        "transfer_data": None,
        "transfer_group": None,
    }


class PaymentIntents(Generator):
    resource = "payment_intents"
    follows = "charges (one per charge, created with it)"
    filters = MappingProxyType({"customer": _customer})
    breakages = MappingProxyType({
        "wrong_type": Breakage("amount", lambda v: str(v)),
        "unknown_enum": Breakage("capture_method", lambda v: "delayed"),
        "missing_required": Breakage("currency", None),
        "null_required": Breakage("amount_received", lambda v: None),
    })

    def count(self, day: int) -> int:
        return len(self.created(day))

    def created(self, day: int) -> Sequence[int]:
        return self.plans.charges(day).created

    def build(self, day: int, slot: int) -> dict[str, Any]:
        charge = self.builder.charge(day, slot)
        secret = ids.random_chars(25, self.plans.seed, TAGS["payment_intents"], day, slot, Purpose.RELATED_ID, _SECRET)
        return payment_intent_of(charge, STATUS_OF_CHARGE[self.plans.charges(day).state[slot]], secret)


GENERATOR = PaymentIntents
