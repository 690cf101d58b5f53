"""Setup intents in the emulator: each saves an earlier customer's card; those waiting for the
customer succeed or are canceled as the clock moves on."""

from __future__ import annotations


def test_setup_intents_save_an_earlier_customers_card(emu, api):
    intents = emu.objects("setup_intents")
    assert intents
    customers = {c["id"]: c for c in emu.objects("customers")}
    for si in intents:
        customer = customers[si["customer"]]
        assert customer.get("deleted") or customer["created"] <= si["created"]  # a deleted one is a stub
        assert si["client_secret"].startswith(f"{si['id']}_secret_")
        saved = si["status"] in ("succeeded", "requires_action")
        assert (si["payment_method"] is not None) == saved == (si["latest_attempt"] is not None)
        assert (si["next_action"] is not None) == (si["status"] == "requires_action")
        assert (si["cancellation_reason"] is not None) == (si["status"] == "canceled")
        if saved and not customer.get("deleted") and customer["invoice_settings"]["default_payment_method"]:
            assert si["payment_method"] == customer["invoice_settings"]["default_payment_method"]
    assert {si["status"] for si in intents} == {"succeeded", "requires_payment_method", "requires_action", "canceled"}
    si = intents[len(intents) // 2]
    assert api.ok(f"/v1/setup_intents/{si['id']}") == si
    assert api.ids("/v1/setup_intents", limit=100) == [s["id"] for s in intents[:100]]
    of_customer = [s["id"] for s in intents if s["customer"] == si["customer"]]
    assert api.ids("/v1/setup_intents", customer=si["customer"], limit=100) == of_customer


def _events(moved, type: str) -> list[dict]:
    return [e for e in moved.events() if e["type"] == type]


def test_waiting_setup_intents_succeed_or_are_canceled(moved, moved_api, before_moving):
    succeeded = _events(moved, "setup_intent.succeeded")
    canceled = _events(moved, "setup_intent.canceled")
    assert len(succeeded) == len(canceled) == 20
    for event in succeeded + canceled:
        si = event["data"]["object"]
        assert before_moving[si["id"]]["status"] in ("requires_payment_method", "requires_action")
        assert event["data"]["previous_attributes"]["status"] == before_moving[si["id"]]["status"]
        assert moved_api.ok(f"/v1/setup_intents/{si['id']}") == si
    for event in succeeded:
        si = event["data"]["object"]
        assert si["status"] == "succeeded" and si["payment_method"] and si["latest_attempt"]
        assert si["next_action"] is None
    for event in canceled:
        assert event["data"]["object"]["cancellation_reason"] in ("abandoned", "requested_by_customer", "duplicate")
