"""The catalog's change-tracking declarations agree with Stripe's event types."""

from __future__ import annotations

import re
import typing
from dataclasses import replace
from pathlib import Path

import pytest
from stripe.params._webhook_endpoint_create_params import WebhookEndpointCreateParams

from stripe_assets.catalog import RESOURCES
from stripe_assets.catalog.child import StripeChild

# Every event type Stripe can send, as the SDK's webhook endpoint parameters list them.
_STRIPE_EVENT_TYPES = set(
    typing.get_args(typing.get_args(WebhookEndpointCreateParams.__annotations__["enabled_events"])[0])
)


def test_mutable_resources_name_real_event_types_and_deletions_among_them():
    for resource in RESOURCES.values():
        assert set(resource.events) <= _STRIPE_EVENT_TYPES, resource.name
        assert set(resource.deletion_events) <= set(resource.events), resource.name
        # GET /v1/events takes at most 20 `types[]`.
        assert len(resource.events) <= 20, resource.name
    assert RESOURCES["balance_transactions"].events == ()
    assert RESOURCES["customers"].deletion_events == ("customer.deleted",)
    assert RESOURCES["prices"].deletion_events == ("price.deleted",)
    assert RESOURCES["invoices"].deletion_events == ("invoice.deleted",)
    # As the README's table says: how many event types each resource's changes come from, and
    # which resources Stripe deletes.
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    rows = dict(re.findall(r"^\| `(\w+)` \| `\w+` \| [^|]+ \| ([^|]+) \|$", readme, flags=re.M))
    rows = {name: said for name, said in rows.items() if name.islower()}  # not the environment table
    assert set(rows) == set(RESOURCES)
    for name, said in rows.items():
        events = re.search(r"changes \((\d+) event types\)", said)
        assert (int(events[1]) if events else 0) == len(RESOURCES[name].events), name
        assert ("can be deleted" in said) == bool(RESOURCES[name].deletion_events), name


def test_a_declaration_outside_the_domain_groups_is_refused_naming_them():
    with pytest.raises(ValueError) as caught:
        replace(RESOURCES["charges"], group="stripe")
    message = str(caught.value)
    assert message.startswith("charges: group 'stripe' is none of stripe_payments, stripe_billing,")
    assert "\n" not in message


def test_a_resource_is_listed_at_v1_its_name_unless_it_names_another_path():
    charges = RESOURCES["charges"]
    assert charges.path == "/v1/charges"
    sessions = replace(charges, name="checkout_sessions", list_path="/v1/checkout/sessions")
    # The path is the endpoint's; the asset, the table and the CLI keep the plain name.
    assert sessions.path == "/v1/checkout/sessions"
    assert (sessions.table, sessions.asset_path) == ("stripe.checkout_sessions", ["stripe", "checkout_sessions"])
    with pytest.raises(ValueError) as caught:
        replace(charges, list_path="checkout/sessions")
    assert str(caught.value) == (
        "charges: list_path 'checkout/sessions' is not a Stripe path like /v1/checkout/sessions"
    )


def test_a_child_list_gives_its_parents_declaration():
    children = {name: r for name, r in RESOURCES.items() if isinstance(r, StripeChild)}
    assert {name: c.parent.name for name, c in children.items()} == {
        "invoice_line_items": "invoices",
        "subscription_items": "subscriptions",
        "payout_balance_transactions": "payouts",
        "payment_methods": "customers",
        "credit_note_line_items": "credit_notes",
        "checkout_session_line_items": "checkout_sessions",
    }
    for child in children.values():
        assert child.parent is RESOURCES[child.child_of.parent]
        assert not isinstance(child.parent, StripeChild), child.name  # parents are read from their own tables
