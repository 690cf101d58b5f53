"""Invoices: what a customer owes for a subscription (or one-off items), and whether it was paid."""

from __future__ import annotations

import numpy as np
import stripe

from stripe_assets.catalog.declaration import StripeResource
from stripe_assets.catalog.rules import Columns, Rule, integers, non_negative


def _remaining_within_due(cols: Columns) -> np.ndarray:
    # amount_remaining is what is left of amount_due once amount_paid is taken off.
    return ~(integers(cols["amount_remaining"]) > integers(cols["amount_due"]))


def _explain_remaining(record: dict) -> str:
    return f"amount_remaining ({record.get('amount_remaining')}) > amount_due ({record.get('amount_due')})"


RESOURCE = StripeResource(
    name="invoices",
    object="invoice",
    stripe_class=stripe.Invoice,
    id_prefixes=("in_",),
    ordinal=6,
    summary="bills of subscriptions: amounts due, paid and remaining, status, period and paid time",
    group="stripe_billing",
    columns=(
        "id", "created", "customer", "subscription: parent.subscription_details.subscription",
        "status", "billing_reason", "collection_method", "currency",
        "amount_due", "amount_paid", "amount_remaining", "subtotal", "total",
        "period_start", "period_end", "due_date", "paid_at: status_transitions.paid_at",
        "number", "attempt_count", "livemode", "metadata",
    ),
    timestamp_fields=frozenset(
        {
            "created",
            "automatically_finalizes_at",
            "due_date",
            "effective_at",
            "next_payment_attempt",
            "period_end",
            "period_start",
            "webhooks_delivered_at",
            "finalized_at",
            "marked_uncollectible_at",
            "paid_at",
            "voided_at",
        }
    ),
    rules=(
        non_negative("amount_due"),
        non_negative("amount_paid"),
        non_negative("amount_remaining"),
        Rule(
            name="amount_remaining_within_due",
            column="amount_remaining",
            reads=("amount_remaining", "amount_due"),
            description="amount_remaining <= amount_due",
            holds=_remaining_within_due,
            explain=_explain_remaining,
        ),
    ),
    # Invoices change as they are finalized, paid, voided or written off; only drafts can be deleted.
    events=(
        "invoice.created",
        "invoice.deleted",
        "invoice.finalization_failed",
        "invoice.finalized",
        "invoice.marked_uncollectible",
        "invoice.overdue",
        "invoice.overpaid",
        "invoice.paid",
        "invoice.payment_action_required",
        "invoice.payment_attempt_required",
        "invoice.payment_failed",
        "invoice.payment_succeeded",
        "invoice.sent",
        "invoice.updated",
        "invoice.voided",
        "invoice.will_be_due",
    ),
    deletion_events=("invoice.deleted",),
)
