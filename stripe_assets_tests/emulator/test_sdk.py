"""The official `stripe` SDK, pointed at the emulator, reads exactly what the emulator holds."""

from __future__ import annotations

import json

import pytest
import stripe

from stripe_assets.catalog import RESOURCES
from stripe_assets_emulator.generators import GENERATED


@pytest.fixture(scope="module")
def client(emu) -> stripe.StripeClient:
    return stripe.StripeClient(emu.api_key, base_addresses={"api": emu.url}, max_network_retries=0)


# The SDK names a service as a word list where Stripe's path runs the words together.
SDK_SERVICES = {"invoiceitems": "invoice_items"}


@pytest.mark.parametrize("resource", GENERATED)
def test_auto_pagination_returns_every_listable_object(client, emu, resource):
    params = {"limit": 100, **RESOURCES[resource].list_params}
    service = client.v1
    for part in RESOURCES[resource].path.split("/")[2:]:  # client.v1.checkout.sessions
        service = getattr(service, SDK_SERVICES.get(part, part))
    # The SDK turns decimal strings (`unit_amount_decimal`) into Decimals: back to JSON's text.
    listed = [
        json.loads(json.dumps(obj.to_dict(), default=str))
        for obj in service.list(params=params).auto_paging_iter()
    ]
    truth = [o for o in emu.objects(resource) if not o.get("deleted")]
    assert [o["id"] for o in listed] == emu.listable_ids(resource)
    assert listed == truth


def test_auto_pagination_backwards_with_ending_before(client, emu):
    ids = emu.listable_ids("charges")
    params = {"limit": 7, "ending_before": ids[60]}
    backwards = [c.id for c in client.v1.charges.list(params=params).auto_paging_iter()]
    assert backwards == list(reversed(ids[:60]))  # the SDK yields the newer ones, oldest first


def test_retrieve_and_errors_surface_as_the_sdks_typed_exceptions(client, emu):
    charge_id = emu.listable_ids("charges")[0]
    assert client.v1.charges.retrieve(charge_id).id == charge_id
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.charges.retrieve("ch_000000000000000000000000")
    assert missing.value.code == "resource_missing" and missing.value.http_status == 404
    with pytest.raises(stripe.AuthenticationError):
        stripe.StripeClient("sk_test_wrong", base_addresses={"api": emu.url}).v1.charges.list()


def test_the_sdk_retries_server_errors(start_another):
    from stripe_assets_emulator import FaultConfig

    emu = start_another(FaultConfig(error_every=2), days=1)
    client = stripe.StripeClient(emu.api_key, base_addresses={"api": emu.url}, max_network_retries=2)
    listed = [c.id for c in client.v1.prices.list(params={"limit": 10}).auto_paging_iter()]
    assert listed == emu.listable_ids("prices")
    assert emu.request_count > len(listed) // 10 + 1  # the 500s were retried


def test_the_sdk_pages_through_events_and_retrieves_them(moved):
    client = stripe.StripeClient(moved.api_key, base_addresses={"api": moved.url}, max_network_retries=0)
    listed = list(client.v1.events.list(params={"limit": 100, "type": "charge.*"}).auto_paging_iter())
    truth = [e for e in moved.events() if e["type"].startswith("charge.")]
    assert [e.id for e in listed] == [e["id"] for e in truth]
    event = client.v1.events.retrieve(truth[0]["id"])
    assert json.loads(json.dumps(event.to_dict(), default=str)) == truth[0]
    dispute = next(e for e in listed if e.type == "charge.dispute.created")
    assert client.v1.charges.retrieve(dispute.data.object["charge"]).disputed is True
