"""What lists hide by default and the filters each list accepts."""

from __future__ import annotations

import pytest


def _all(api, path: str, **params) -> list[dict]:
    found, params = [], {"limit": 100, **params}
    while True:
        page = api.ok(path, **params)
        found += page["data"]
        if not page["has_more"]:
            return found
        params["starting_after"] = page["data"][-1]["id"]


def test_subscriptions_hide_canceled_ones_unless_status_all(api, emu):
    everything = emu.objects("subscriptions")
    canceled = {s["id"] for s in everything if s["status"] == "canceled"}
    assert canceled, "some subscriptions are canceled"
    default = _all(api, "/v1/subscriptions")
    assert not canceled & {s["id"] for s in default}
    assert {s["id"] for s in _all(api, "/v1/subscriptions", status="all")} == {s["id"] for s in everything}
    assert len(default) == len(everything) - len(canceled)


@pytest.mark.parametrize("status", ["canceled", "active", "trialing", "ended"])
def test_subscription_status_filter(api, emu, status):
    wanted = ("canceled", "incomplete_expired") if status == "ended" else (status,)
    expected = [s["id"] for s in emu.objects("subscriptions") if s["status"] in wanted]
    assert expected
    assert [s["id"] for s in _all(api, "/v1/subscriptions", status=status)] == expected


def test_an_unknown_subscription_status_is_rejected(api):
    error = api.error("/v1/subscriptions", 400, status="on_hold")
    assert error["param"] == "status" and "must be one of" in error["message"]


def test_deleted_customers_are_never_listed_but_can_be_retrieved_as_stubs(api, emu):
    everything = emu.objects("customers")
    deleted = [c for c in everything if c.get("deleted")]
    assert deleted, "some customers are deleted"
    listed = {c["id"] for c in _all(api, "/v1/customers")}
    assert not listed & {c["id"] for c in deleted}
    assert len(listed) == len(everything) - len(deleted)
    stub = api.ok(f"/v1/customers/{deleted[0]['id']}")
    assert stub == {"id": deleted[0]["id"], "object": "customer", "deleted": True}


def test_subscriptions_of_deleted_customers_are_canceled(emu):
    deleted = {c["id"] for c in emu.objects("customers") if c.get("deleted")}
    of_deleted = [s for s in emu.objects("subscriptions") if s["customer"] in deleted]
    assert of_deleted
    assert {s["status"] for s in of_deleted} == {"canceled"}


def test_prices_filter_on_active_and_type(api, emu):
    prices = emu.objects("prices")
    inactive = [p["id"] for p in prices if not p["active"]]
    one_time = [p["id"] for p in prices if p["type"] == "one_time"]
    assert inactive and one_time
    assert [p["id"] for p in _all(api, "/v1/prices", active="false")] == inactive
    assert [p["id"] for p in _all(api, "/v1/prices", type="one_time")] == one_time
    assert len(_all(api, "/v1/prices")) == len(prices)  # inactive prices are listed by default
    assert api.error("/v1/prices", 400, active="maybe")["message"] == "Invalid boolean: maybe"


def test_charges_filter_on_customer_and_refunds_on_charge(api, emu):
    charges = emu.objects("charges")
    customer = next(c["customer"] for c in charges if c["customer"])
    assert [c["id"] for c in _all(api, "/v1/charges", customer=customer)] == [
        c["id"] for c in charges if c["customer"] == customer
    ]
    refunds = emu.objects("refunds")
    charge = refunds[0]["charge"]
    assert [r["id"] for r in _all(api, "/v1/refunds", charge=charge)] == [
        r["id"] for r in refunds if r["charge"] == charge
    ]


def test_balance_transactions_filter_on_type_and_source(api, emu):
    txns = emu.objects("balance_transactions")
    refund_txns = [t["id"] for t in txns if t["type"] == "refund"]
    assert refund_txns
    assert [t["id"] for t in _all(api, "/v1/balance_transactions", type="refund")] == refund_txns
    payout_txns = [t["id"] for t in txns if t["type"] == "payout"]
    assert payout_txns and [t["id"] for t in _all(api, "/v1/balance_transactions", type="payout")] == payout_txns
    transfer_txns = [t["id"] for t in txns if t["type"] == "transfer"]
    assert transfer_txns and [t["id"] for t in _all(api, "/v1/balance_transactions", type="transfer")] == transfer_txns
    assert _all(api, "/v1/balance_transactions", type="contribution") == []
    source = txns[5]["source"]
    assert [t["id"] for t in _all(api, "/v1/balance_transactions", source=source)] == [txns[5]["id"]]
    assert api.error("/v1/balance_transactions", 400, type="gift")["param"] == "type"


def test_subscriptions_filter_on_customer_and_price(api, emu):
    subs = emu.objects("subscriptions")
    customer = subs[0]["customer"]
    price = subs[0]["items"]["data"][0]["price"]["id"]
    assert [s["id"] for s in _all(api, "/v1/subscriptions", customer=customer, status="all")] == [
        s["id"] for s in subs if s["customer"] == customer
    ]
    assert [s["id"] for s in _all(api, "/v1/subscriptions", price=price, status="all")] == [
        s["id"] for s in subs if s["items"]["data"][0]["price"]["id"] == price
    ]


def test_a_filter_on_an_id_that_does_not_exist_finds_nothing(api):
    assert _all(api, "/v1/charges", customer="cus_doesnotexist") == []
