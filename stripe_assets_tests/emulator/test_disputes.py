"""Disputes in the emulator: served on their charges with their balance transactions, answered
and decided as the clock moves on, over HTTP."""

from __future__ import annotations


def test_disputes_are_served_on_disputed_charges_with_their_withdrawal(emu, api):
    charges = {c["id"]: c for c in emu.objects("charges")}
    disputes = emu.objects("disputes")
    assert len(disputes) >= 3
    assert {d["charge"] for d in disputes} == {c for c, charge in charges.items() if charge["disputed"]}
    for dispute in disputes:
        charge = charges[dispute["charge"]]
        assert charge["captured"] and charge["amount_refunded"] == 0 and charge["created"] < dispute["created"]
        assert (dispute["amount"], dispute["currency"], dispute["payment_intent"]) == (
            charge["amount"], charge["currency"], charge["payment_intent"]
        )
        [txn] = dispute["balance_transactions"]
        assert api.ok(f"/v1/balance_transactions/{txn['id']}") == txn
        assert (txn["source"], txn["reporting_category"]) == (dispute["id"], "dispute")
        assert txn["amount"] == -dispute["amount"]
        assert dispute["status"] == "needs_response"
    dispute = disputes[0]
    assert api.ok(f"/v1/disputes/{dispute['id']}") == dispute
    assert api.ids("/v1/disputes", charge=dispute["charge"]) == [dispute["id"]]
    assert api.ids("/v1/disputes", payment_intent=dispute["payment_intent"]) == [dispute["id"]]


def _events(moved, type: str) -> list[dict]:
    return [e for e in moved.events() if e["type"] == type]


def test_disputes_made_by_changes_are_served_and_answered_and_decided(moved, moved_api):
    for event in _events(moved, "charge.dispute.created"):
        dispute = event["data"]["object"]
        served = moved_api.ok(f"/v1/disputes/{dispute['id']}")
        assert served["id"] == dispute["id"] and served["created"] == event["created"]
        assert dispute["id"] in moved_api.ids("/v1/disputes", charge=dispute["charge"])
    updated = _events(moved, "charge.dispute.updated")
    assert len(updated) == 3
    for event in updated:
        dispute = event["data"]["object"]
        assert (dispute["status"], event["data"]["previous_attributes"]["status"]) == ("under_review", "needs_response")
        assert dispute["evidence_details"]["has_evidence"] is True
    closed = _events(moved, "charge.dispute.closed")
    assert len(closed) == 3
    reinstated = {e["data"]["object"]["id"] for e in _events(moved, "charge.dispute.funds_reinstated")}
    for event in closed:
        dispute = event["data"]["object"]
        assert dispute["status"] in ("won", "lost")
        assert (dispute["status"] == "won") == (dispute["id"] in reinstated)
        if dispute["status"] == "won":
            returned = dispute["balance_transactions"][-1]
            assert (returned["amount"], returned["reporting_category"]) == (dispute["amount"], "dispute_reversal")
            assert moved_api.ok(f"/v1/balance_transactions/{returned['id']}") == returned
        assert moved_api.ok(f"/v1/disputes/{dispute['id']}") == dispute
