"""Tax rates in the emulator: Stripe's shapes, all listed unless `active` filters them, renamed and
archived as the clock moves on with their percentage kept."""

from __future__ import annotations


def test_tax_rates_are_listed_active_or_not_unless_active_filters_them(emu, api):
    rates = emu.objects("tax_rates")
    for rate in rates:
        assert rate["id"].startswith("txr_") and 0 <= rate["percentage"] <= 100
        assert rate["jurisdiction"] == (f"{rate['country']} - {rate['state']}" if rate["state"] else rate["country"])
        assert not (rate["inclusive"] and rate["tax_type"] == "sales_tax")  # US sales tax is added on top
    assert {r["active"] for r in rates} == {True, False} and {r["inclusive"] for r in rates} == {True, False}
    rate = rates[len(rates) // 2]
    assert api.ok(f"/v1/tax_rates/{rate['id']}") == rate
    assert api.ids("/v1/tax_rates", limit=100) == [r["id"] for r in rates[:100]]  # archived ones too
    assert api.ids("/v1/tax_rates", active="false", limit=100) == [r["id"] for r in rates if not r["active"]][:100]
    assert api.ids("/v1/tax_rates", inclusive="true", limit=100) == [r["id"] for r in rates if r["inclusive"]][:100]
    assert api.error("/v1/tax_rates", 400, active="yes")["param"] == "active"


def test_tax_rates_are_edited_and_archived_with_their_percentage_kept(moved, moved_api, before_moving):
    updated = [e for e in moved.events() if e["type"] == "tax_rate.updated"]
    assert len(updated) == 40  # 20 edits, 20 archived
    archived = [e for e in updated if e["data"]["previous_attributes"] == {"active": True}]
    assert len(archived) == 20
    for event in updated:
        rate = event["data"]["object"]
        before = before_moving[rate["id"]]
        assert set(event["data"]["previous_attributes"]) <= {"display_name", "description", "metadata", "active"}
        assert (rate["percentage"], rate["inclusive"]) == (before["percentage"], before["inclusive"])
        assert moved_api.ok(f"/v1/tax_rates/{rate['id']}") == rate
    for event in archived:
        assert event["data"]["object"]["active"] is False
