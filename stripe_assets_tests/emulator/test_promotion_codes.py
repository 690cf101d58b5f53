"""Promotion codes in the emulator: each redeems a coupon made before it, active only while that
coupon is valid; tagged and deactivated as the clock moves on, and inactive once the coupon is deleted."""

from __future__ import annotations

PATH = "/v1/promotion_codes"


def test_promotion_codes_redeem_earlier_coupons_and_are_active_only_while_the_coupon_is_valid(emu, api):
    codes = emu.objects("promotion_codes")
    coupons = {c["id"]: c for c in emu.objects("coupons")}
    for code in codes:
        coupon = coupons[code["promotion"]["coupon"]]
        assert code["id"].startswith("promo_") and code["promotion"]["type"] == "coupon"
        assert coupon["created"] <= code["created"]
        assert not code["active"] or coupon["valid"]
        assert code["max_redemptions"] is None or code["times_redeemed"] <= code["max_redemptions"]
    assert {c["active"] for c in codes} == {True, False}
    assert len({c["code"] for c in codes}) == len(codes)
    code = codes[len(codes) // 2]
    assert api.ok(f"{PATH}/{code['id']}") == code
    assert api.ids(PATH, limit=100) == [c["id"] for c in codes[:100]]  # inactive ones too
    assert api.ids(PATH, code=code["code"]) == [code["id"]]
    of_coupon = [c["id"] for c in codes if c["promotion"]["coupon"] == code["promotion"]["coupon"]]
    assert api.ids(PATH, coupon=code["promotion"]["coupon"], limit=100) == of_coupon
    assert api.ids(PATH, active="false", limit=100) == [c["id"] for c in codes if not c["active"]][:100]


def test_codes_are_tagged_deactivated_and_follow_their_deleted_coupon(moved, moved_api, before_moving):
    updated = [e for e in moved.events() if e["type"] == "promotion_code.updated"]
    deleted_coupons = {e["data"]["object"]["id"]: e["created"] for e in moved.events() if e["type"] == "coupon.deleted"}
    deactivated = [e for e in updated if e["data"]["previous_attributes"] == {"active": True}]
    tagged = [e for e in updated if set(e["data"]["previous_attributes"]) == {"metadata"}]
    assert len(tagged) == 20 and len(deactivated) >= 20 and len(tagged) + len(deactivated) == len(updated)
    for event in updated:
        code = event["data"]["object"]
        assert moved_api.ok(f"{PATH}/{code['id']}") == code
    for event in deactivated:
        assert before_moving[event["data"]["object"]["id"]]["active"] is True
        assert event["data"]["object"]["active"] is False
    # a deleted coupon's codes: none active, each turned off in the second its coupon was deleted
    coupon_of = {e["id"]: e["data"]["object"]["promotion"]["coupon"] for e in deactivated}
    followed = [e for e in deactivated if deleted_coupons.get(coupon_of[e["id"]]) == e["created"]]
    assert followed and len(deactivated) == 20 + len(followed)
    for code in moved.objects("promotion_codes"):
        assert not (code["active"] and code["promotion"]["coupon"] in deleted_coupons), code["id"]
