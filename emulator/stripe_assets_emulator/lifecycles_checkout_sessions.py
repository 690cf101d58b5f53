"""Checkout sessions along their lifecycle: an open session is completed by its customer or expires."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_assets_emulator.generators.checkout_sessions import CheckoutSessions

if TYPE_CHECKING:
    from stripe_assets_emulator.lifecycles import Change, Changer


def checkout_session_completed(changer: Changer, change: Change) -> None:
    """The customer paid, subscribed or saved a card: the session points at what that made."""
    completed = changer.ds.generator(CheckoutSessions).completion(*change.place)
    changer.update(change, "checkout_sessions", lambda cs: cs.update(completed), "checkout.session.completed")


def checkout_session_expired(changer: Changer, change: Change) -> None:
    """Nobody finished it: its page is gone."""

    def expire(cs: dict[str, Any]) -> None:
        cs["status"] = "expired"
        cs["url"] = None

    changer.update(change, "checkout_sessions", expire, "checkout.session.expired")
