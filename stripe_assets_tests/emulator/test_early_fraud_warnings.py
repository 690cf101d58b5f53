"""Early fraud warnings in the emulator: listed at /v1/radar/early_fraud_warnings, each on a settled
charge made before it, actionable until the charge is fully refunded or disputed."""

from __future__ import annotations

PATH = "/v1/radar/early_fraud_warnings"


def test_warnings_are_on_earlier_settled_charges_and_actionable_while_the_charge_is_open(emu, api):
    warnings = emu.objects("early_fraud_warnings")
    charges = {c["id"]: c for c in emu.objects("charges")}
    for warning in warnings:
        charge = charges[warning["charge"]]
        assert warning["id"].startswith("issfr_") and warning["object"] == "radar.early_fraud_warning"
        assert charge["status"] == "succeeded" and charge["created"] <= warning["created"]
        assert warning["payment_intent"] == charge["payment_intent"]
        assert warning["actionable"] == (not charge["refunded"] and not charge["disputed"])
    assert {w["actionable"] for w in warnings} == {True, False}
    warning = warnings[len(warnings) // 2]
    assert api.ok(f"{PATH}/{warning['id']}") == warning
    page = api.ok(PATH, limit=100)
    assert page["url"] == PATH and [w["id"] for w in page["data"]] == [w["id"] for w in warnings[:100]]
    on_charge = [w["id"] for w in warnings if w["charge"] == warning["charge"]]
    assert api.ids(PATH, charge=warning["charge"]) == on_charge
    assert api.ids(PATH, payment_intent=warning["payment_intent"]) == on_charge


def test_a_warning_stops_being_actionable_when_its_charge_is_refunded_or_disputed(moved, before_moving):
    updated = [e for e in moved.events() if e["type"] == "radar.early_fraud_warning.updated"]
    assert updated
    charges = {c["id"]: c for c in moved.objects("charges")}
    changed_charges = {
        e["data"]["object"]["id"]: e["created"] for e in moved.events() if e["type"] == "charge.refunded"
    } | {e["data"]["object"]["charge"]: e["created"] for e in moved.events() if e["type"] == "charge.dispute.created"}
    for event in updated:
        warning = event["data"]["object"]
        assert before_moving[warning["id"]]["actionable"] is True
        assert (warning["actionable"], event["data"]["previous_attributes"]) == (False, {"actionable": True})
        assert changed_charges[warning["charge"]] == event["created"]  # in the second its charge changed
    for warning in moved.objects("early_fraud_warnings"):
        charge = charges[warning["charge"]]
        assert warning["actionable"] == (not charge["refunded"] and not charge["disputed"]), warning["id"]
