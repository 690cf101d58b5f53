"""Coupons in the emulator: Stripe's shapes and rules, renamed and deleted as the clock moves on."""

from __future__ import annotations


def test_coupons_offer_one_discount_and_are_valid_until_redeemed_or_expired(emu, api):
    coupons = emu.objects("coupons")
    assert coupons
    for coupon in coupons:
        assert (coupon["amount_off"] is None) != (coupon["percent_off"] is None)
        assert (coupon["currency"] is None) == (coupon["amount_off"] is None)
        assert (coupon["duration_in_months"] is not None) == (coupon["duration"] == "repeating")
        expired = coupon["redeem_by"] is not None and coupon["redeem_by"] <= emu.now
        used_up = coupon["max_redemptions"] is not None and coupon["times_redeemed"] >= coupon["max_redemptions"]
        assert coupon["valid"] == (not expired and not used_up)
    assert {c["duration"] for c in coupons} == {"once", "repeating", "forever"}
    coupon = coupons[len(coupons) // 2]
    assert api.ok(f"/v1/coupons/{coupon['id']}") == coupon
    assert api.ids("/v1/coupons", limit=100) == [c["id"] for c in coupons[:100]]


def _events(moved, type: str) -> list[dict]:
    return [e for e in moved.events() if e["type"] == type]


def test_coupons_are_renamed_or_tagged_and_deleted(moved, moved_api):
    updated = _events(moved, "coupon.updated")
    assert len(updated) == 20
    for event in updated:
        assert set(event["data"]["previous_attributes"]) in ({"name"}, {"metadata"})
    deleted = _events(moved, "coupon.deleted")
    assert len(deleted) == 20
    for event in deleted:
        coupon = event["data"]["object"]
        assert moved_api.ok(f"/v1/coupons/{coupon['id']}") == {"id": coupon["id"], "object": "coupon", "deleted": True}
        assert coupon["id"] not in moved_api.ids("/v1/coupons", limit=100, created=coupon["created"])
