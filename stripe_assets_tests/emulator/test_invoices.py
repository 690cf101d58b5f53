"""Invoices in the emulator: each subscription's first invoice, consistent with it, over HTTP."""

from __future__ import annotations

from stripe_assets_emulator.periods import add_interval


def _by_id(emu, resource: str) -> dict[str, dict]:
    return {o["id"]: o for o in emu.objects(resource)}


def test_every_subscription_has_its_first_invoice_created_with_it(emu):
    subscriptions = _by_id(emu, "subscriptions")
    invoices = emu.objects("invoices")
    assert len(invoices) == len(subscriptions) > 0
    billed = [i["parent"]["subscription_details"]["subscription"] for i in invoices]
    assert sorted(billed) == sorted(subscriptions)
    for invoice in invoices:
        sub = subscriptions[invoice["parent"]["subscription_details"]["subscription"]]
        assert (invoice["created"], invoice["customer"], invoice["currency"]) == (
            sub["created"], sub["customer"], sub["currency"]
        )
        assert invoice["billing_reason"] == "subscription_create"
        assert invoice["collection_method"] == sub["collection_method"]
        line = invoice["lines"]["data"][0]  # the subscription's; then included seats (test_children.py)
        item = sub["items"]["data"][0]
        assert (line["subscription"], line["pricing"]["price_details"]["price"]) == (sub["id"], item["price"]["id"])
        recurring = item["price"]["recurring"]
        first_period_end = sub["trial_end"] or add_interval(
            sub["created"], recurring["interval"], recurring["interval_count"]
        )
        assert line["period"] == {"start": sub["created"], "end": first_period_end}
        # A trial starts with a zero invoice; otherwise the price times the quantity.
        expected = 0 if sub["trial_end"] else item["price"]["unit_amount"] * item["quantity"]
        assert invoice["amount_due"] == invoice["total"] == line["amount"] == expected


def test_amounts_and_status_follow_the_subscription(emu):
    subscriptions = _by_id(emu, "subscriptions")
    seen = set()
    for invoice in emu.objects("invoices"):
        sub = subscriptions[invoice["parent"]["subscription_details"]["subscription"]]
        status, paid_at = invoice["status"], invoice["status_transitions"]["paid_at"]
        seen.add(status)
        assert invoice["amount_paid"] + invoice["amount_remaining"] == (
            0 if status == "void" else invoice["amount_due"]
        )
        assert (invoice["amount_paid"] == invoice["amount_due"]) == (status == "paid" or invoice["amount_due"] == 0)
        assert (paid_at is not None) == (status == "paid")
        if sub["status"] == "incomplete":
            assert status == "open"
        elif sub["status"] == "incomplete_expired":
            assert status == "void" and invoice["status_transitions"]["voided_at"] == sub["ended_at"]
        elif sub["collection_method"] == "charge_automatically":
            assert (status, paid_at) == ("paid", sub["created"])
        else:
            assert invoice["due_date"] == sub["created"] + sub["days_until_due"] * 86400
            assert status in ("paid", "open")
            assert paid_at is None or sub["created"] <= paid_at <= invoice["due_date"]
    assert {"paid", "open"} <= seen


def test_list_filters_by_subscription_customer_and_status(emu, api):
    invoices = emu.objects("invoices")
    invoice = invoices[len(invoices) // 2]
    subscription = invoice["parent"]["subscription_details"]["subscription"]
    assert api.ids("/v1/invoices", subscription=subscription) == [invoice["id"]]
    of_customer = [i["id"] for i in invoices if i["customer"] == invoice["customer"]]
    assert api.ids("/v1/invoices", customer=invoice["customer"], limit=100) == of_customer
    paid = [i["id"] for i in invoices if i["status"] == "paid"][:100]
    assert api.ids("/v1/invoices", status="paid", limit=100) == paid
    error = api.error("/v1/invoices", 400, status="settled")
    assert (error["param"], error["type"]) == ("status", "invalid_request_error")
    assert api.ok(f"/v1/invoices/{invoice['id']}")["id"] == invoice["id"]
