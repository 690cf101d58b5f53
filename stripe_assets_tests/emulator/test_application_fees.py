"""Application fees in the emulator: taken from about one settled charge in ten, which names its
fee, each bringing its amount into the balance; fees are refunded as the clock moves on, the
refunded amount leaving the balance in a balance transaction of its own."""

from __future__ import annotations


def test_fees_are_taken_from_served_charges_and_reach_the_ledger(emu, api):
    fees = emu.objects("application_fees")
    assert fees
    charges = {c["id"]: c for c in emu.objects("charges")}
    txns = {t["id"]: t for t in emu.objects("balance_transactions")}
    for fee in fees:
        charge = charges[fee["charge"]]
        assert charge["status"] == "succeeded" and charge["captured"] and fee["created"] == charge["created"]
        assert (charge["application_fee"], charge["application_fee_amount"]) == (fee["id"], fee["amount"])
        assert charge["application"] == fee["application"] and fee["application"].startswith("ca_")
        assert 0 < fee["amount"] < charge["amount"] and fee["currency"] == charge["currency"]
        assert fee["account"].startswith("acct_") and fee["fee_source"] == {"charge": charge["id"], "type": "charge"}
        txn = txns[fee["balance_transaction"]]
        assert (txn["type"], txn["source"], txn["created"]) == ("application_fee", fee["id"], fee["created"])
        assert txn["amount"] == txn["net"] == fee["amount"] and txn["currency"] == fee["currency"]
        assert (fee["amount_refunded"], fee["refunded"], fee["refunds"]["data"]) == (0, False, [])
    with_fee = [c for c in charges.values() if c["application_fee"]]
    assert sorted(c["application_fee"] for c in with_fee) == sorted(f["id"] for f in fees)
    settled = [c for c in charges.values() if c["status"] == "succeeded" and c["captured"]]
    assert 0.05 * len(settled) < len(fees) < 0.2 * len(settled)
    fee = fees[len(fees) // 2]
    assert api.ok(f"/v1/application_fees/{fee['id']}") == fee
    assert api.ids("/v1/application_fees", limit=100) == [f["id"] for f in fees[:100]]
    assert api.ids("/v1/application_fees", charge=fee["charge"]) == [fee["id"]]
    assert api.ids("/v1/balance_transactions", source=fee["id"]) == [fee["balance_transaction"]]
    of_type = [t["id"] for t in txns.values() if t["type"] == "application_fee"]
    assert api.ids("/v1/balance_transactions", type="application_fee", limit=100) == of_type[:100]


def test_fees_are_refunded_with_the_amount_leaving_the_balance(moved, moved_api, before_moving):
    refunded = [e for e in moved.events() if e["type"] == "application_fee.refunded"]
    assert len(refunded) == 20
    txns = {t["id"]: t for t in moved.objects("balance_transactions")}
    full = 0
    for event in refunded:
        fee = event["data"]["object"]
        assert event["data"]["previous_attributes"]["amount_refunded"] == before_moving[fee["id"]]["amount_refunded"]
        [refund] = fee["refunds"]["data"]
        assert fee["amount_refunded"] == refund["amount"] > 0 and fee["refunds"]["total_count"] == 1
        assert fee["refunded"] == (refund["amount"] == fee["amount"])
        full += fee["refunded"]
        txn = txns[refund["balance_transaction"]]
        assert (txn["type"], txn["source"]) == ("application_fee_refund", refund["id"])
        assert txn["amount"] == txn["net"] == -refund["amount"]
        assert refund["fee"] == fee["id"] and refund["created"] == event["created"] == txn["created"]
        assert moved_api.ok(f"/v1/application_fees/{fee['id']}") == fee
    assert 0 < full < len(refunded)  # some in full, some in part
