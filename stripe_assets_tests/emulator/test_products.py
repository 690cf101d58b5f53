"""Products in the emulator: what prices point at, edited and deleted like Stripe's, over HTTP."""

from __future__ import annotations


def test_every_price_points_at_a_served_product_made_before_it(emu, api):
    products = {p["id"]: p for p in emu.objects("products")}
    prices = emu.objects("prices")
    assert products and prices
    for price in prices:
        product = products[price["product"]]
        assert product["created"] <= price["created"]
        if price["nickname"]:
            assert price["nickname"].startswith(product["name"])
    price = prices[len(prices) // 2]
    assert api.ok(f"/v1/products/{price['product']}") == products[price["product"]]
    same_product = [p["id"] for p in prices if p["product"] == price["product"]]
    assert api.ids("/v1/prices", product=price["product"], limit=100) == same_product
    archived = [p["id"] for p in products.values() if not p["active"]][:100]
    assert archived and api.ids("/v1/products", active="false", limit=100) == archived


def _events(moved, type: str) -> list[dict]:
    return [e for e in moved.events() if e["type"] == type]


def test_products_are_edited_and_only_those_without_prices_are_deleted(moved, moved_api):
    updated = _events(moved, "product.updated")
    assert len(updated) == 20
    for event in updated:
        product, previous = event["data"]["object"], event["data"]["previous_attributes"]
        assert product["updated"] == event["created"] and previous["updated"] < event["created"]
        assert len(set(previous) - {"updated"}) == 1
    deleted = _events(moved, "product.deleted")
    assert len(deleted) == 20
    listed = set(moved_api.ids("/v1/products", limit=100))
    for event in deleted:
        product = event["data"]["object"]
        assert product["object"] == "product" and "deleted" not in product
        assert moved_api.ids("/v1/prices", product=product["id"]) == []
        assert moved_api.ok(f"/v1/products/{product['id']}") == {
            "id": product["id"], "object": "product", "deleted": True
        }
        assert product["id"] not in listed
        day = [p["id"] for p in moved.objects("products", product["created"], product["created"] + 1)]
        assert product["id"] in day  # include_hidden: as a stub
        assert product["id"] not in moved_api.ids("/v1/products", limit=100, created=product["created"])
