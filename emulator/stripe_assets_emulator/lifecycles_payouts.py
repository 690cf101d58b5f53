"""Payouts along their lifecycle: a payout in transit arrives (paid) or is returned (failed)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_assets_emulator import ids

if TYPE_CHECKING:
    from stripe_assets_emulator.lifecycles import Change, Changer

# (failure_code, failure_message) as Stripe reports a returned payout.
FAILURES = (
    ("account_closed", "The bank account has been closed."),
    ("no_account", "The bank account details on file are probably incorrect. No bank account could be located with those details."),  # noqa: E501
    ("insufficient_funds", "Your Stripe account has insufficient funds to cover the payout."),
)
_TRACE = 3  # discriminator of the trace id's characters


def payout_paid(changer: Changer, change: Change) -> None:
    trace = ids.random_chars(15, changer.seed, changer.advance, change.number, _TRACE).upper()

    def arrive(payout: dict[str, Any]) -> None:
        payout["reconciliation_status"] = "completed"
        payout["status"] = "paid"
        payout["trace_id"] = {"status": "supported", "value": trace}

    changer.update(change, "payouts", arrive, "payout.paid", "payout.reconciliation_completed")


def payout_failed(changer: Changer, change: Change) -> None:
    """The bank returned the payout: its amount comes back to the balance (`payout_failure`)."""
    day, slot = change.place
    payout = changer.ds.current("payouts", day, slot)
    code, message = changer.draws(change).choice(FAILURES)
    txn = changer.balance_transaction(
        change.at,
        amount=payout["amount"],
        currency=payout["currency"],
        type="payout_failure",
        category="payout_reversal",
        source=payout["id"],
        description="STRIPE PAYOUT FAILURE",
    )

    def fail(p: dict[str, Any]) -> None:
        p["failure_balance_transaction"] = txn["id"]
        p["failure_code"] = code
        p["failure_message"] = message
        p["reconciliation_status"] = "completed"
        p["status"] = "failed"
        p["trace_id"] = {"status": "unsupported", "value": None}

    changer.update(change, "payouts", fail, "payout.failed")
