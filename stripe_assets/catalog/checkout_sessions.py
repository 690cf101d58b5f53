"""Checkout sessions: a customer's visit to a Stripe-hosted payment, subscription or setup page."""

from __future__ import annotations

import numpy as np
import stripe

from stripe_assets.catalog.declaration import StripeResource
from stripe_assets.catalog.rules import Columns, Rule, non_negative

# The object each mode makes once the session completes; the others stay null.
MODE_OBJECTS = {"payment": "payment_intent", "subscription": "subscription", "setup": "setup_intent"}


def _mode_objects(cols: Columns) -> np.ndarray:
    modes = cols["mode"]
    held = np.ones(len(modes), bool)
    for mode_of, name in MODE_OBJECTS.items():
        values = cols[name]
        # A mode Stripe added since (drift) cannot be judged.
        held &= np.fromiter(
            (
                v is None or m == mode_of or m not in MODE_OBJECTS
                for v, m in zip(values, modes, strict=True)
            ),
            bool,
            len(modes),
        )
    return held


def _explain_mode_objects(record: dict) -> str:
    mode = record.get("mode")
    wrong = [name for m, name in MODE_OBJECTS.items() if record.get(name) is not None and m != mode]
    return f"{', '.join(wrong)} set on a session in {mode} mode"


RESOURCE = StripeResource(
    name="checkout_sessions",
    object="checkout.session",
    stripe_class=stripe.checkout.Session,
    id_prefixes=("cs_test_", "cs_live_"),
    ordinal=13,
    summary="hosted checkout pages: mode, status, amount, and the intent or subscription they made",
    group="stripe_payments",
    columns=(
        "id", "created", "mode", "status", "payment_status", "customer", "payment_intent",
        "subscription", "setup_intent", "invoice", "amount_subtotal", "amount_total", "currency",
        "expires_at", "customer_email: customer_details.email", "client_reference_id", "payment_link",
        "livemode", "metadata",
    ),
    timestamp_fields=frozenset({"created", "expires_at"}),
    list_path="/v1/checkout/sessions",
    rules=(
        non_negative("amount_total"),
        Rule(
            name="mode_objects",
            column="mode",
            reads=("mode", *MODE_OBJECTS.values()),
            description="only the mode's own object is set: payment_intent (payment), subscription or setup_intent",
            holds=_mode_objects,
            explain=_explain_mode_objects,
        ),
    ),
    # Sessions are completed or expire; Stripe never deletes them.
    events=(
        "checkout.session.async_payment_failed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.completed",
        "checkout.session.expired",
    ),
)
