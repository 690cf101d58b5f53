"""Payouts in the emulator: daily automatic payouts of available funds, with their balance
transactions, arriving or returned as the clock moves on, over HTTP."""

from __future__ import annotations

from collections import defaultdict

import pytest
import stripe

from stripe_assets.ingest.stripe_schema import deep_errors
from stripe_assets_emulator import FaultConfig
from stripe_assets_emulator.config import INVALID_KINDS

DAY = 86400


def test_each_payout_pays_out_the_funds_available_that_day_with_its_balance_transaction(emu, api):
    txns = {t["id"]: t for t in emu.objects("balance_transactions")}
    payouts = emu.objects("payouts")
    assert payouts
    available = defaultdict(int)  # (day, currency) -> net of the charges available at its midnight
    for txn in txns.values():
        if txn["type"] == "charge":
            available[(txn["available_on"], txn["currency"])] += txn["net"]
    for payout in payouts:
        midnight = payout["created"] // DAY * DAY
        assert payout["amount"] == available[(midnight, payout["currency"])] > 0
        txn = txns[payout["balance_transaction"]]
        assert (txn["type"], txn["source"], txn["amount"], txn["fee"], txn["created"]) == (
            "payout", payout["id"], -payout["amount"], 0, payout["created"]
        )
        assert payout["arrival_date"] == midnight + 2 * DAY
        assert payout["status"] == ("paid" if payout["arrival_date"] <= emu.now else "in_transit")
    # one payout per currency and day, for every day funds became available before the end
    assert len(payouts) == len([k for k in available if k[0] < emu.now])
    payout = payouts[len(payouts) // 2]
    assert api.ok(f"/v1/payouts/{payout['id']}") == payout
    assert api.ids("/v1/balance_transactions", source=payout["id"]) == [payout["balance_transaction"]]
    in_transit = [p["id"] for p in payouts if p["status"] == "in_transit"]
    assert in_transit and api.ids("/v1/payouts", status="in_transit", limit=100) == in_transit
    assert api.error("/v1/payouts", 400, status="sent")["param"] == "status"


def _events(moved, type: str) -> list[dict]:
    return [e for e in moved.events() if e["type"] == type]


def test_payouts_in_transit_arrive_or_are_returned_to_the_balance(moved, moved_api):
    paid = _events(moved, "payout.paid")
    assert len(paid) == 3
    assert [e["data"]["object"] for e in paid] == [e["data"]["object"] for e in _events(
        moved, "payout.reconciliation_completed")]
    for event in paid:
        payout, previous = event["data"]["object"], event["data"]["previous_attributes"]
        assert (payout["status"], previous["status"]) == ("paid", "in_transit")
        assert payout["trace_id"]["status"] == "supported"
        assert moved_api.ok(f"/v1/payouts/{payout['id']}") == payout
    failed = _events(moved, "payout.failed")
    assert len(failed) == 2
    for event in failed:
        payout = event["data"]["object"]
        assert payout["status"] == "failed" and payout["failure_code"] and payout["failure_message"]
        returned = moved_api.ok(f"/v1/balance_transactions/{payout['failure_balance_transaction']}")
        assert (returned["type"], returned["source"], returned["amount"], returned["created"]) == (
            "payout_failure", payout["id"], payout["amount"], event["created"]
        )


@pytest.mark.parametrize("kind", INVALID_KINDS)
def test_invalid_payouts_break_stripes_schema(start_another, kind):
    emu = start_another(FaultConfig(invalid_fraction=0.6, invalid_kinds=(kind,)), days=5)
    records = emu.invalid_records("payouts")
    served = {p["id"]: p for p in emu.objects("payouts")}
    assert 0 < len(records) < len(served)
    for object_id, payout in served.items():
        assert bool(deep_errors(stripe.Payout, payout)) == (object_id in records)
