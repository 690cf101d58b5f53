"""Stripe-like list APIs on loopback (`ScriptedApi`), answering each GET from its query."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlparse

from stripe_assets_tests.faults.servers import ScriptedApi


def list_api(handle: Callable[[dict[str, str]], dict]) -> ScriptedApi:
    """Answers every GET with 200 and `handle(query)`; stopped with `stop()`."""
    return ScriptedApi(
        lambda path, headers: (200, handle({k: v[0] for k, v in parse_qs(urlparse(path).query).items()}))
    )


def oldest_first(objects: list[dict]) -> ScriptedApi:
    """A list endpoint that pages oldest first (against Stripe's documented order)."""
    ordered = sorted(objects, key=lambda o: (o["created"], o["id"]))

    def page(query: dict[str, str]) -> dict:
        low, high = int(query.get("created[gte]", 0)), int(query.get("created[lt]", 2**40))
        items = [o for o in ordered if low <= o["created"] < high]
        if "starting_after" in query:
            items = items[[o["id"] for o in items].index(query["starting_after"]) + 1 :]
        limit = int(query.get("limit", 10))
        return {"object": "list", "url": "/v1/charges", "has_more": len(items) > limit, "data": items[:limit]}

    return list_api(page)
