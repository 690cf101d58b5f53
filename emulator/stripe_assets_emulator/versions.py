"""Events rendered at an older API version, as Stripe sends them when the account's default
version was older when the event was created: a reader must not trust such a payload to match
the pinned version's shape, and retrieves the current object instead.
"""

from __future__ import annotations

from typing import Any

from stripe_assets.ingest.stripe_schema import API_VERSION
from stripe_assets_emulator.rng import Purpose, unit

# Before 2025-03-31, billing periods sat on the subscription, not on its items.
OLD_API_VERSION = "2024-06-20"
_VERSION_DRAW = 0xA5


def api_version_for(seed: int, event_number: int, old_share: float) -> str:
    """The version an event is rendered in: the pinned one, or for a share of events an older one."""
    if old_share > 0 and unit(seed, Purpose.EVENT, _VERSION_DRAW, event_number) < old_share:
        return OLD_API_VERSION
    return API_VERSION


def _periods_on_subscription(values: dict[str, Any]) -> dict[str, Any]:
    """Billing periods moved from the items to the subscription (an object or its changed fields)."""
    old = dict(values)
    items = old.get("items")
    if isinstance(items, dict) and items.get("data"):
        data = [dict(item) for item in items["data"]]
        for i, item in enumerate(data):
            for name in ("current_period_end", "current_period_start"):
                if name in item:
                    value = item.pop(name)
                    if i == 0:
                        old[name] = value
        old["items"] = {**items, "data": data}
    return dict(sorted(old.items(), key=lambda kv: (kv[0] not in ("id", "object"), kv[0] != "id", kv[0])))


def render(obj: dict[str, Any], version: str, previous: dict[str, Any] | None = None):
    """The object, and its changed fields, as the given API version shows them."""
    if version == API_VERSION or obj.get("object") != "subscription":
        return obj, previous
    return _periods_on_subscription(obj), None if previous is None else _periods_on_subscription(previous)
