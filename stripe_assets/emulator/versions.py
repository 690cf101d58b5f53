"""Events rendered at an older API version, as Stripe sends them when the account's default
version was older when the event was created: a reader must not trust such a payload to match
the pinned version's shape, and retrieves the current object instead.
"""

from __future__ import annotations

from typing import Any

from stripe_assets.emulator.rng import Purpose, unit
from stripe_assets.ingest.stripe_schema import API_VERSION

# Before 2025-03-31, billing periods sat on the subscription, not on its items.
OLD_API_VERSION = "2024-06-20"
_VERSION_DRAW = 0xA5


def api_version_for(seed: int, event_number: int, old_share: float) -> str:
    """The version an event is rendered in: the pinned one, or for a share of events an older one."""
    if old_share > 0 and unit(seed, Purpose.EVENT, _VERSION_DRAW, event_number) < old_share:
        return OLD_API_VERSION
    return API_VERSION


def render(obj: dict[str, Any], version: str) -> dict[str, Any]:
    """The object as the given API version shows it."""
    if version == API_VERSION or obj.get("object") != "subscription":
        return obj
    old = dict(obj)
    items = old.get("items")
    if isinstance(items, dict) and items.get("data"):
        data = [dict(item) for item in items["data"]]
        first = data[0]
        old["current_period_start"] = first.pop("current_period_start", None)
        old["current_period_end"] = first.pop("current_period_end", None)
        for item in data[1:]:
            item.pop("current_period_start", None)
            item.pop("current_period_end", None)
        old["items"] = {**items, "data": data}
    return dict(sorted(old.items(), key=lambda kv: (kv[0] not in ("id", "object"), kv[0] != "id", kv[0])))
