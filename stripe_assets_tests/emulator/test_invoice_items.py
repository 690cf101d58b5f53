"""Invoice items in the emulator: Stripe's shape (creation time in `date`), listed by `created`
on it, filtered by `pending`, `invoice` and `customer`; pending items are deleted as the clock
moves on."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from stripe_assets_tests.emulator.conftest import START


def test_invoice_items_name_their_creation_date_and_earlier_prices_and_customers(emu, api):
    items = emu.objects("invoice_items")
    assert items
    prices = {p["id"]: p for p in emu.objects("prices")}
    customers = {c["id"] for c in emu.objects("customers")}
    for item in items:
        assert item["id"].startswith("ii_") and item["object"] == "invoiceitem" and "created" not in item
        price = prices[item["pricing"]["price_details"]["price"]]
        assert price["created"] <= item["date"] and item["customer"] in customers
        assert (item["currency"], item["pricing"]["price_details"]["product"]) == (price["currency"], price["product"])
        assert item["amount"] == price["unit_amount"] * item["quantity"]
        assert item["invoice"] is None  # pending until the clock moves on
    item = items[len(items) // 2]
    assert api.ok(f"/v1/invoiceitems/{item['id']}") == item
    # `created` filters on `date`, as Stripe's list does.
    start = int(datetime.combine(START + timedelta(days=1), time(), UTC).timestamp())
    wanted = [i["id"] for i in items if start <= i["date"] < start + 86400]
    listed = api.ids("/v1/invoiceitems", limit=100, **{"created[gte]": start, "created[lt]": start + 86400})
    assert wanted and listed == wanted[:100]
    customer = item["customer"]
    assert api.ids("/v1/invoiceitems", customer=customer, limit=100) == [
        i["id"] for i in items if i["customer"] == customer
    ][:100]
    assert api.ids("/v1/invoiceitems", pending="false", limit=100) == []
    assert api.error("/v1/invoiceitems", 400, pending="maybe")["param"] == "pending"


def test_pending_items_are_deleted_with_an_event_and_no_longer_listed(moved, moved_api, before_moving):
    events = [e for e in moved.events() if e["type"].startswith("invoiceitem.")]
    assert {e["type"] for e in events} == {"invoiceitem.deleted"} and len(events) == 20
    listed = {i["id"] for i in moved.objects("invoice_items", include_hidden=False)}
    for event in events:
        gone = event["data"]["object"]
        assert gone == before_moving[gone["id"]] and gone["invoice"] is None  # as it was, pending
        assert gone["id"] not in listed
        stub = {"id": gone["id"], "object": "invoiceitem", "deleted": True}
        assert moved_api.ok(f"/v1/invoiceitems/{gone['id']}") == stub
