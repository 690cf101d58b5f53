"""Invoice line items: what each invoice bills, one line per price, item or proration."""

from __future__ import annotations

import stripe

from stripe_assets.catalog.child import ChildOf, StripeChild

RESOURCE = StripeChild(
    name="invoice_line_items",
    object="line_item",
    stripe_class=stripe.InvoiceLineItem,
    id_prefixes=("il_",),
    ordinal=101,
    summary="what each invoice bills: amount, quantity, period, price and product of every line",
    group="stripe_billing",
    columns=(
        "id", "amount", "currency", "description", "quantity", "subtotal",
        "price: pricing.price_details.price", "product: pricing.price_details.product",
        "period_start: period.start", "period_end: period.end", "parent_type: parent.type",
        "livemode", "metadata",
    ),
    timestamp_fields=frozenset({"start", "end"}),
    # An invoice embeds its first 10 lines; the rest are read from its lines endpoint. Lines
    # change while the invoice is a draft: they are read again with every change of the invoice.
    child_of=ChildOf(parent="invoices", parent_column="invoice", path="/v1/invoices/{id}/lines", embedded="lines"),
)
