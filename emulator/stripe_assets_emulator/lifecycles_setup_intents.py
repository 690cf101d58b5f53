"""Setup intents along their lifecycle: one waiting for the customer succeeds or is canceled."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_assets_emulator.generators.setup_intents import SetupIntents

if TYPE_CHECKING:
    from stripe_assets_emulator.lifecycles import Change, Changer

_ATTEMPT = 1  # discriminator of the saving attempt's id

# Why a setup intent is canceled: mostly nobody came back to finish it.
CANCELLATION_REASONS = ("abandoned", "abandoned", "requested_by_customer", "duplicate")


def setup_intent_succeeded(changer: Changer, change: Change) -> None:
    """The customer finished: their card is saved, from the attempt that saved it."""
    generator = changer.ds.generator(SetupIntents)
    card = generator.card(*change.place)
    attempt = changer.related_id("setatt_", change, _ATTEMPT)

    def succeed(si: dict[str, Any]) -> None:
        si["latest_attempt"] = attempt
        si["next_action"] = None
        si["payment_method"] = card
        si["status"] = "succeeded"

    changer.update(change, "setup_intents", succeed, "setup_intent.succeeded")


def setup_intent_canceled(changer: Changer, change: Change) -> None:
    """An intent left waiting is canceled; what it had is kept, the action it asked for is not."""
    reason = changer.draws(change).choice(CANCELLATION_REASONS)

    def cancel(si: dict[str, Any]) -> None:
        si["cancellation_reason"] = reason
        si["next_action"] = None
        si["status"] = "canceled"

    changer.update(change, "setup_intents", cancel, "setup_intent.canceled")
