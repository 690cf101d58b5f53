"""Checkout session line items: what each checkout session sold, one line per price."""

from __future__ import annotations

import stripe

from stripe_assets.catalog.child import ChildOf, StripeChild

RESOURCE = StripeChild(
    name="checkout_session_line_items",
    object="item",
    stripe_class=stripe.LineItem,
    id_prefixes=("li_",),
    ordinal=106,
    summary="what each checkout session sold: price, quantity and amounts of every line",
    group="stripe_payments",
    columns=(
        "id", "description", "quantity", "currency", "amount_subtotal", "amount_discount", "amount_tax",
        "amount_total", "price", "metadata",
    ),
    timestamp_fields=frozenset(),
    # A session shows its first lines (`line_items`, a list with `has_more`) only when expanded:
    # the sessions of a partition are listed again with `expand[]=data.line_items`, and only a
    # session with more lines than that costs a request of its own. A session's lines never
    # change once it is created.
    child_of=ChildOf(
        parent="checkout_sessions", parent_column="checkout_session", path="/v1/checkout/sessions/{id}/line_items",
        expanded="line_items",
    ),
)
