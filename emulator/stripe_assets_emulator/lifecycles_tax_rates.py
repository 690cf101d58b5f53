"""Tax rates along their lifecycle: renamed, described or tagged, and archived. Stripe keeps a
rate's percentage and inclusiveness as created, and never deletes a rate."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stripe_assets_emulator.lifecycles import Change, Changer


def tax_rate_updated(changer: Changer, change: Change) -> None:
    r = changer.draws(change)
    what = r.choice(("display_name", "description", "metadata"))
    number = r.randrange(10000)

    def edit(rate: dict[str, Any]) -> None:
        if what == "display_name":
            rate["display_name"] = f"{rate['display_name']} ({rate['jurisdiction']})"
        elif what == "description":
            rate["description"] = f"{rate['display_name']} {rate['percentage']:g}%, ref {number:04d}"
        else:
            rate["metadata"] = {**rate["metadata"], "ledger_account": f"{2000 + number % 100}"}

    changer.update(change, "tax_rates", edit, "tax_rate.updated")


def tax_rate_archived(changer: Changer, change: Change) -> None:
    """No longer offered for new invoices and subscriptions; where it already applies, it stays."""
    changer.update(change, "tax_rates", lambda rate: rate.update(active=False), "tax_rate.updated")
