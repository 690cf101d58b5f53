"""Invoice items: one-off charges added to a customer's next invoice (or to a draft invoice).

Stripe names an invoice item's creation time `date`, not `created` (`created_field`); its list,
`/v1/invoiceitems`, takes the `created` filter on that time like any other list, so partitions
are found and read as for other resources. The table's `created` column holds `date`.
"""

from __future__ import annotations

import stripe

from stripe_assets.catalog.declaration import StripeResource

RESOURCE = StripeResource(
    name="invoice_items",
    object="invoiceitem",
    stripe_class=stripe.InvoiceItem,
    id_prefixes=("ii_",),
    ordinal=19,
    summary="one-off charges for a customer's next invoice: amount, quantity, period and its invoice",
    group="stripe_billing",
    columns=(
        "id", "created: date", "customer", "invoice", "amount", "currency", "quantity", "description",
        "proration", "discountable", "period_start: period.start", "period_end: period.end",
        "livemode", "metadata",
    ),
    timestamp_fields=frozenset({"date", "start", "end"}),
    created_field="date",
    list_path="/v1/invoiceitems",
    # Without `pending` Stripe lists pending and invoiced items alike, so no list params are
    # needed. Stripe sends events only for an item's creation and deletion: an edit of a pending
    # item, or its `invoice` once billed, shows only when its partition is loaded again.
    events=("invoiceitem.created", "invoiceitem.deleted"),
    deletion_events=("invoiceitem.deleted",),
)
