"""Child lists, served from their parents as Stripe serves them: `/v1/invoices/{id}/lines`,
`/v1/subscription_items?subscription=`, `/v1/customers/{id}/payment_methods`,
`/v1/checkout/sessions/{id}/line_items` (a payout's balance
transactions are a filter of the balance transactions list: `generators/balance_transactions.py`).

A child list is the parent's embedded children (its current state) followed by those past
them, paged newest first like any list: `limit`, `starting_after`, `ending_before`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from stripe_assets.catalog import RESOURCES, get_resource
from stripe_assets.catalog.child import ChildOf, child_of
from stripe_assets_emulator import errors, ids
from stripe_assets_emulator.dataset import Dataset
from stripe_assets_emulator.generators import GENERATED
from stripe_assets_emulator.generators.checkout_sessions import CheckoutSessions
from stripe_assets_emulator.generators.invoices import Invoices
from stripe_assets_emulator.plans import TAGS, unref
from stripe_assets_emulator.query import MAX_LIMIT, parse_integer
from stripe_assets_emulator.rng import Draws, Purpose

CHILDREN: dict[str, ChildOf] = {
    name: spec for name, r in RESOURCES.items() if (spec := child_of(r)) is not None and name not in GENERATED
}
DEFAULT_LIMIT = 10
_CARD_BRANDS = ("visa", "mastercard", "amex", "discover")
_INLINE_PRICE, _INLINE_PRODUCT = 1000, 1001  # discriminators of a session line's own price and product


def route(path: str, params: dict[str, str]) -> tuple[str, str] | None:
    """The child list and parent id a request path names (None: not a child list of its own)."""
    parts = path.strip("/").split("/")
    for name, spec in CHILDREN.items():
        template = spec.path.strip("/").split("/")
        if spec.parent_param is not None:
            if parts == template and template[1] not in GENERATED:
                parent_id = params.get(spec.parent_param)
                if not parent_id:
                    raise errors.invalid(f"Missing required param: {spec.parent_param}.", param=spec.parent_param)
                return name, parent_id
        elif len(parts) == len(template) and all(t in ("{id}", p) for t, p in zip(template, parts, strict=True)):
            return name, parts[template.index("{id}")]
    return None


def list_body(ds: Dataset, name: str, parent_id: str, params: dict[str, str], path: str) -> bytes:
    """One page of a parent's children."""
    spec = CHILDREN[name]
    allowed = {"limit", "starting_after", "ending_before", *([spec.parent_param] if spec.parent_param else [])}
    for key in params:
        if key not in allowed:
            raise errors.invalid(f"Received unknown parameter: {key}", param=key)
    parent = get_resource(spec.parent)
    found = ds.locate(parent.name, parent_id)
    if found is None or ds.is_deleted(parent.name, *found):
        raise errors.no_such(parent.object, parent_id, param="id", status=404)
    objects = children(ds, name, *found)
    limit = parse_integer("limit", params["limit"]) if "limit" in params else DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise errors.invalid(f"This value must be between 1 and {MAX_LIMIT}.", param="limit")
    at = [o["id"] for o in objects]
    if params.get("starting_after"):
        if params["starting_after"] not in at:
            raise errors.no_such(get_resource(name).object, params["starting_after"], param="starting_after")
        objects = objects[at.index(params["starting_after"]) + 1 :]
        page = objects[:limit]
    elif params.get("ending_before"):
        if params["ending_before"] not in at:
            raise errors.no_such(get_resource(name).object, params["ending_before"], param="ending_before")
        objects = objects[: at.index(params["ending_before"])]
        page = objects[-limit:]
    else:
        page = objects[:limit]
    has_more = len(objects) > len(page)
    return orjson.dumps({"object": "list", "data": page, "has_more": has_more, "url": path})


def children(ds: Dataset, name: str, day: int, slot: int) -> list[dict[str, Any]]:
    """Every child of the parent at (day, slot), in the order Stripe lists them."""
    spec = CHILDREN[name]
    parent = ds.served(spec.parent, day, slot)
    embedded = parent.get(spec.embedded) if spec.embedded else None
    first = list(embedded["data"]) if isinstance(embedded, dict) else []
    every = _ALL.get(name)
    # The embedded ones as the parent shows them now, then the rest.
    return first + (every(ds, day, slot, parent)[len(first) :] if every is not None else [])


def _invoice_lines(ds: Dataset, day: int, slot: int, invoice: dict) -> list[dict]:
    """The subscription's line, then the extra ones."""
    first = invoice["lines"]["data"][0]
    sub = ds.builder.subscription(day, slot)
    period = (first["period"]["start"], first["period"]["end"])
    invoices = ds.generator(Invoices)
    return [first, *invoices.extra_lines(day, slot, invoice["id"], sub, period)]


def _payment_methods(ds: Dataset, day: int, slot: int, customer: dict) -> list[dict]:
    """0 to 3 cards per customer, saved in the minutes after it was created, and those attached
    since, less those detached; newest first."""
    r = Draws(ds.plans.seed, TAGS["payment_methods"], day, slot, Purpose.OBJECT)
    count = int(r.random() * 4)  # as generated_cards() draws it
    methods = [
        _card(ds, customer, "pm_" + ids.related_id("", 24, ds.plans.seed, TAGS["payment_methods"], day, slot, n),
              customer["created"] + 60 * (n + 1), r)
        for n in range(count)
    ]
    methods += ds.live.attached.get((day, slot), [])
    gone = ds.live.detached.get((day, slot), set())
    return [m for m in methods if m["id"] not in gone][::-1]


def generated_cards(ds: Dataset, day: int, slot: int) -> int:
    """How many cards the customer at (day, slot) was generated with."""
    return int(Draws(ds.plans.seed, TAGS["payment_methods"], day, slot, Purpose.OBJECT).random() * 4)


def new_payment_method(ds: Dataset, customer: dict, method_id: str, at: int) -> dict:
    """A card attached to the customer at `at`."""
    return _card(ds, customer, method_id, at, Draws(ds.plans.seed, TAGS["payment_methods"], at, Purpose.OBJECT))


def _card(ds: Dataset, customer: dict, method_id: str, created: int, r: Draws) -> dict:
    brand = _CARD_BRANDS[int(r.random() * len(_CARD_BRANDS))]
    return {
        "id": method_id,
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": {
            "address": customer.get("address"), "email": customer.get("email"),
            "name": customer.get("name"), "phone": customer.get("phone"), "tax_id": None,
        },
        "card": {
            "brand": brand,
            "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": "pass"},
            "country": "US",
            "display_brand": brand,
            "exp_month": 1 + int(r.random() * 12),
            "exp_year": 2027 + int(r.random() * 5),
            "fingerprint": method_id[3:19],
            "funding": "credit" if r.random() < 0.7 else "debit",
            "generated_from": None,
            "last4": f"{int(r.random() * 10000):04d}",
            "networks": {"available": [brand], "preferred": None},
            "regulated_status": "unregulated",
            "three_d_secure_usage": {"supported": True},
            "wallet": None,
        },
        "created": created,
        "customer": customer["id"],
        "livemode": False,
        "metadata": {},
        "type": "card",
    }


# Every child of a parent, for the lists whose parents do not embed them all.
_ALL: dict[str, Callable[[Dataset, int, int, dict], list[dict]]] = {
    "invoice_line_items": _invoice_lines,
    "payment_methods": _payment_methods,
}


def _session_line_items(ds: Dataset, day: int, slot: int, session: dict) -> list[dict]:
    """A subscription session's line per item of its subscription (price and quantity); a
    payment session's one line, at a price made for it (`price_data`); none in setup mode."""
    sessions = ds.generators["checkout_sessions"]
    assert isinstance(sessions, CheckoutSessions)
    mode, target = sessions.mode(day, slot), sessions.day(day).target[slot]
    if mode == "setup" or target < 0:
        return []
    key = (ds.plans.seed, TAGS["checkout_session_line_items"], day, slot)
    if mode == "subscription":
        items = ds.builder.subscription(*unref(target))["items"]["data"]
        sold = [(item["price"], item["quantity"]) for item in items]
    else:
        amount, currency = sessions.amounts(day, slot)
        assert amount is not None and currency is not None
        sold = [(_inline_price(session, amount, currency, key), 1)]
    return [
        {
            "id": ids.related_id("li_", 24, *key, n),
            "object": "item",
            "amount_discount": 0,
            "amount_subtotal": price["unit_amount"] * quantity,
            "amount_tax": 0,
            "amount_total": price["unit_amount"] * quantity,
            "currency": price["currency"],
            "description": price["nickname"] or "Payment",
            "metadata": {},
            "price": price,
            "quantity": quantity,
        }
        for n, (price, quantity) in enumerate(sold)
    ]


def _inline_price(session: dict, amount: int, currency: str, key: tuple[int, ...]) -> dict:
    """The one-time price Stripe makes for a line given as `price_data` (inactive, unlisted)."""
    return {
        "id": ids.related_id("price_", 24, *key, _INLINE_PRICE),
        "object": "price",
        "active": False,
        "billing_scheme": "per_unit",
        "created": session["created"],
        "currency": currency,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": None,
        "metadata": {},
        "nickname": None,
        "product": ids.related_id("prod_", 14, *key, _INLINE_PRODUCT),
        "recurring": None,
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "one_time",
        "unit_amount": amount,
        "unit_amount_decimal": str(amount),
    }


_ALL["checkout_session_line_items"] = _session_line_items
