"""Payment intents in the emulator: each charge's own, following it, served over HTTP."""

from __future__ import annotations

from collections import Counter

STATUS_OF_CHARGE = {
    ("succeeded", True): "succeeded",
    ("succeeded", False): "requires_capture",
    ("pending", False): "processing",
    ("failed", False): "requires_payment_method",
}


def test_each_charge_points_at_a_served_payment_intent_whose_latest_charge_it_is(emu, api):
    charges = emu.objects("charges")
    intents = {pi["id"]: pi for pi in emu.objects("payment_intents")}
    assert len(intents) == len(charges) > 0
    for charge in charges:
        pi = intents[charge["payment_intent"]]
        assert pi["latest_charge"] == charge["id"]
        assert (pi["created"], pi["amount"], pi["currency"], pi["customer"]) == (
            charge["created"], charge["amount"], charge["currency"], charge["customer"]
        )
        assert pi["status"] == STATUS_OF_CHARGE[(charge["status"], charge["captured"])]
        assert pi["amount_received"] == (charge["amount"] if charge["captured"] else 0)
        assert pi["amount_capturable"] == (charge["amount"] if pi["status"] == "requires_capture" else 0)
        if charge["status"] == "failed":  # the decline, and no payment method kept
            error = pi["last_payment_error"]
            assert (error["charge"], error["code"], error["message"]) == (
                charge["id"], charge["failure_code"], charge["failure_message"]
            )
            assert pi["payment_method"] is None
        else:
            assert pi["last_payment_error"] is None and pi["payment_method"] == charge["payment_method"]
    assert {"succeeded", "requires_payment_method"} <= set(Counter(pi["status"] for pi in intents.values()))
    charge = charges[len(charges) // 2]
    assert api.ok(f"/v1/payment_intents/{charge['payment_intent']}") == intents[charge["payment_intent"]]
    assert api.ids("/v1/charges", payment_intent=charge["payment_intent"]) == [charge["id"]]


def test_payment_intents_list_by_customer_and_created(emu, api):
    intents = emu.objects("payment_intents")
    customer = next(pi["customer"] for pi in intents if pi["customer"])
    of_customer = [pi["id"] for pi in intents if pi["customer"] == customer]
    assert api.ids("/v1/payment_intents", customer=customer, limit=100) == of_customer
    day = intents[-1]["created"]  # the first day's midnight
    first_day = [pi["id"] for pi in intents if day <= pi["created"] < day + 86400][:100]
    assert api.ids("/v1/payment_intents", limit=100, **{"created[gte]": day, "created[lt]": day + 86400}) == first_day


def _events(moved, type: str) -> list[dict]:
    return [e for e in moved.events() if e["type"] == type]


def test_captured_charges_succeed_their_intent_and_declined_ones_are_canceled(moved, moved_api):
    captured = {e["data"]["object"]["id"]: e for e in _events(moved, "charge.captured")}
    succeeded = _events(moved, "payment_intent.succeeded")
    assert len(succeeded) == len(captured) == 20
    for event in succeeded:
        pi = event["data"]["object"]
        charge_event = captured[pi["latest_charge"]]
        assert charge_event["data"]["object"]["payment_intent"] == pi["id"]
        assert event["created"] == charge_event["created"]
        assert (pi["status"], pi["amount_received"], pi["amount_capturable"]) == ("succeeded", pi["amount"], 0)
        assert event["data"]["previous_attributes"] == {
            "amount_capturable": pi["amount"], "amount_received": 0, "status": "requires_capture"
        }
    canceled = _events(moved, "payment_intent.canceled")
    assert len(canceled) == 20
    for event in canceled:
        pi = event["data"]["object"]
        assert (pi["status"], pi["canceled_at"]) == ("canceled", event["created"])
        assert pi["cancellation_reason"] in ("abandoned", "requested_by_customer", "duplicate")
        assert event["data"]["previous_attributes"] == {
            "canceled_at": None, "cancellation_reason": None, "status": "requires_payment_method"
        }
        assert moved_api.ok(f"/v1/charges/{pi['latest_charge']}")["status"] == "failed"
        assert moved_api.ok(f"/v1/payment_intents/{pi['id']}") == pi
