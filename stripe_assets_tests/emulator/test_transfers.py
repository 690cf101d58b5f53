"""Transfers in the emulator: each takes its amount out of the balance in a `transfer` balance
transaction; transfers are edited and reversed as the clock moves on, the reversed amount coming
back in a balance transaction of its own."""

from __future__ import annotations


def test_each_transfer_has_its_balance_transaction_in_the_ledger(emu, api):
    transfers = emu.objects("transfers")
    assert transfers
    txns = {t["id"]: t for t in emu.objects("balance_transactions")}
    for transfer in transfers:
        txn = txns[transfer["balance_transaction"]]
        assert (txn["type"], txn["source"], txn["created"]) == ("transfer", transfer["id"], transfer["created"])
        assert txn["amount"] == txn["net"] == -transfer["amount"] < 0 and txn["currency"] == transfer["currency"]
        assert transfer["destination"].startswith("acct_") and transfer["destination_payment"].startswith("py_")
        assert (transfer["amount_reversed"], transfer["reversed"], transfer["reversals"]["data"]) == (0, False, [])
    assert len({t["destination"] for t in transfers}) > 1
    transfer = transfers[len(transfers) // 2]
    assert api.ok(f"/v1/transfers/{transfer['id']}") == transfer
    assert api.ids("/v1/transfers", limit=100) == [t["id"] for t in transfers[:100]]
    to_account = [t["id"] for t in transfers if t["destination"] == transfer["destination"]]
    assert api.ids("/v1/transfers", destination=transfer["destination"], limit=100) == to_account[:100]
    # the ledger lists them by type and by source, as Stripe's balance transactions endpoint does
    of_type = [t["id"] for t in txns.values() if t["type"] == "transfer"]
    assert api.ids("/v1/balance_transactions", type="transfer", limit=100) == of_type[:100]
    assert api.ids("/v1/balance_transactions", source=transfer["id"]) == [transfer["balance_transaction"]]


def _events(moved, type: str) -> list[dict]:
    return [e for e in moved.events() if e["type"] == type]


def test_transfers_are_edited_and_reversed_with_the_amount_back_in_the_balance(moved, moved_api, before_moving):
    updated = _events(moved, "transfer.updated")
    reversed_ = _events(moved, "transfer.reversed")
    assert len(updated) == len(reversed_) == 20
    for event in updated:
        transfer = event["data"]["object"]
        changed = set(event["data"]["previous_attributes"])
        assert changed in ({"description"}, {"metadata"})
        assert transfer["amount_reversed"] == before_moving[transfer["id"]]["amount_reversed"]
    txns = {t["id"]: t for t in moved.objects("balance_transactions")}
    full = 0
    for event in reversed_:
        transfer = event["data"]["object"]
        before = before_moving[transfer["id"]]
        [reversal] = transfer["reversals"]["data"]
        assert transfer["amount_reversed"] == reversal["amount"] > 0 and transfer["reversals"]["total_count"] == 1
        assert transfer["reversed"] == (reversal["amount"] == transfer["amount"])
        full += transfer["reversed"]
        assert event["data"]["previous_attributes"]["amount_reversed"] == before["amount_reversed"] == 0
        txn = txns[reversal["balance_transaction"]]
        assert (txn["type"], txn["source"], txn["amount"]) == ("transfer_refund", reversal["id"], reversal["amount"])
        assert reversal["transfer"] == transfer["id"] and reversal["created"] == event["created"] == txn["created"]
        assert moved_api.ok(f"/v1/transfers/{transfer['id']}") == transfer
    assert 0 < full < len(reversed_)  # some in full, some in part
