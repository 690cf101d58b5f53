"""Disputes along their lifecycle: the merchant submits evidence, then the bank decides.

A dispute that is won gives the disputed amount back to the balance (a balance transaction of
category `dispute_reversal`, `charge.dispute.funds_reinstated`); a lost one stays withdrawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stripe_assets_emulator.lifecycles import Change, Changer

OPEN = ("needs_response", "under_review")


def dispute_updated(changer: Changer, change: Change) -> None:
    """The merchant submits evidence: the dispute goes under review."""
    number = changer.draws(change).randrange(10**6)

    def submit(d: dict[str, Any]) -> None:
        d["evidence"] = {
            **d["evidence"],
            "product_description": "Monthly subscription to the Example SaaS service.",
            "uncategorized_text": f"Customer used the service after the charge (log {number:06d}).",
        }
        d["evidence_details"] = {
            **d["evidence_details"],
            "has_evidence": True,
            "submission_count": d["evidence_details"]["submission_count"] + 1,
            "submission_method": "manual",
        }
        d["status"] = "under_review"

    changer.update(change, "disputes", submit, "charge.dispute.updated")


def dispute_closed(changer: Changer, change: Change) -> None:
    won = changer.draws(change).random() < 0.4
    dispute = changer.ds.current("disputes", *change.place)
    returned = None
    if won:
        returned = changer.balance_transaction(
            change.at,
            amount=dispute["amount"],
            currency=dispute["currency"],
            type="adjustment",
            category="dispute_reversal",
            source=dispute["id"],
            description=f"Chargeback reversal for {dispute['charge']}",
        )

    def close(d: dict[str, Any]) -> None:
        if returned is not None:
            d["balance_transactions"] = [*d["balance_transactions"], returned]
        d["is_charge_refundable"] = False
        d["status"] = "won" if won else "lost"

    types = ("charge.dispute.closed", "charge.dispute.funds_reinstated") if won else ("charge.dispute.closed",)
    changer.update(change, "disputes", close, *types)
