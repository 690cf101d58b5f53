"""Payment intents along their lifecycle: each follows its charge, or is canceled once abandoned.

A payment intent sits at its charge's position, so a change to the charge names the intent too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stripe_assets_emulator.lifecycles import Change, Changer

# Why a declined payment's intent is canceled: mostly nobody came back with another card.
CANCELLATION_REASONS = ("abandoned", "abandoned", "requested_by_customer", "duplicate")


def payment_intent_succeeded(changer: Changer, change: Change) -> None:
    """The intent of a charge just captured: the whole amount received, nothing left to capture."""

    def succeed(pi: dict[str, Any]) -> None:
        pi["amount_capturable"] = 0
        pi["amount_received"] = pi["amount"]
        pi["status"] = "succeeded"

    changer.update(change, "payment_intents", succeed, "payment_intent.succeeded")


def payment_intent_canceled(changer: Changer, change: Change) -> None:
    """An intent left waiting for a payment method after a declined attempt is canceled."""
    reason = changer.draws(change).choice(CANCELLATION_REASONS)

    def cancel(pi: dict[str, Any]) -> None:
        pi["canceled_at"] = change.at
        pi["cancellation_reason"] = reason
        pi["status"] = "canceled"

    changer.update(change, "payment_intents", cancel, "payment_intent.canceled")
