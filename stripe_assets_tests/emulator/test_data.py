"""The synthetic account: schema-valid, cross-referenced, deterministic objects."""

from __future__ import annotations

import re
from collections import Counter, defaultdict

import pytest
import requests
import stripe

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.stripe_schema import deep_errors, fields_of_class
from stripe_assets_emulator.generators import GENERATED as RESOURCE_NAMES

from .conftest import DAYS


@pytest.fixture(params=["generated", "after changes"])
def account(request):
    """The generated account, and one whose clock moved on with changes of every kind."""
    return request.getfixturevalue("emu" if request.param == "generated" else "moved")


@pytest.mark.parametrize("resource", RESOURCE_NAMES)
def test_every_object_conforms_to_stripes_schema_for_the_pinned_version(account, resource):
    cls = get_resource(resource).stripe_class
    served = [o for o in account.objects(resource) if not o.get("deleted")]
    assert served
    fields = fields_of_class(cls)
    required = {name for name, spec in fields.items() if spec.required}
    for obj in served:
        assert deep_errors(cls, obj) == [], obj["id"]
        assert required <= set(obj)
        if "livemode" in fields:
            assert obj["livemode"] is False


def test_subscription_items_conform_to_the_subscription_item_schema(account):
    for sub in account.objects("subscriptions"):
        assert sub["items"]["object"] == "list"
        for item in sub["items"]["data"]:
            assert deep_errors(stripe.SubscriptionItem, item) == []
            assert deep_errors(stripe.Price, item["price"]) == []
            assert deep_errors(stripe.Plan, item["plan"]) == []
            assert item["subscription"] == sub["id"]
            assert item["current_period_start"] < item["current_period_end"]


@pytest.mark.parametrize("resource", RESOURCE_NAMES)
def test_ids_look_like_stripes(emu, resource):
    prefix = get_resource(resource).id_prefixes[0]
    ids = [o["id"] for o in emu.objects(resource)]
    assert all(re.fullmatch(re.escape(prefix) + r"[0-9A-Za-z]{24}", i) for i in ids)
    assert len(set(ids)) == len(ids)


def _by_id(emu, resource: str) -> dict[str, dict]:
    return {o["id"]: o for o in emu.objects(resource)}


def test_charges_and_subscriptions_point_at_earlier_customers_and_prices(emu):
    customers = _by_id(emu, "customers")
    prices = _by_id(emu, "prices")
    for charge in emu.objects("charges"):
        customer = customers.get(charge["customer"]) if charge["customer"] else None
        assert charge["customer"] is None or customer is not None
        if customer and not customer.get("deleted"):  # deleted stubs carry no `created`
            assert customer["created"] <= charge["created"]
    for sub in emu.objects("subscriptions"):
        assert sub["customer"] in customers
        price = prices[sub["items"]["data"][0]["price"]["id"]]
        assert price["type"] == "recurring" and price["created"] <= sub["created"]
        assert sub["currency"] == price["currency"]
        customer = customers[sub["customer"]]
        if customer.get("deleted"):
            continue
        # Customers pay in one currency, if a recurring price in it existed at the time.
        offered = [
            p for p in prices.values() if p["currency"] == customer["currency"] and p["type"] == "recurring"
        ]
        if any(p["created"] <= sub["created"] for p in offered):
            assert sub["currency"] == customer["currency"]


def test_refunds_never_exceed_their_charge_and_charges_sum_their_refunds(emu):
    charges = _by_id(emu, "charges")
    refunded: dict[str, int] = defaultdict(int)
    for refund in emu.objects("refunds"):
        charge = charges[refund["charge"]]
        assert charge["status"] == "succeeded" and charge["captured"]
        assert refund["created"] >= charge["created"]
        assert refund["currency"] == charge["currency"]
        assert refund["payment_intent"] == charge["payment_intent"]
        refunded[refund["charge"]] += refund["amount"]
    assert refunded
    for charge_id, charge in charges.items():
        assert charge["amount_refunded"] == refunded.get(charge_id, 0)
        assert charge["amount_refunded"] <= charge["amount"]
        assert charge["refunded"] == (charge["amount_refunded"] == charge["amount"])
    assert any(c["refunded"] for c in charges.values())
    assert any(0 < c["amount_refunded"] < c["amount"] for c in charges.values())


def test_balance_transactions_match_their_charges_and_refunds(emu):
    charges = _by_id(emu, "charges")
    refunds = _by_id(emu, "refunds")
    txns = emu.objects("balance_transactions")
    by_source = {t["source"]: t for t in txns}
    assert len(by_source) == len(txns)
    payouts = _by_id(emu, "payouts")
    disputes = _by_id(emu, "disputes")
    transfers = _by_id(emu, "transfers")
    fees = _by_id(emu, "application_fees")
    for txn in txns:
        assert txn["net"] == txn["amount"] - txn["fee"]
        assert txn["fee"] == sum(d["amount"] for d in txn["fee_details"])
        source = (
            charges.get(txn["source"]) or refunds.get(txn["source"]) or payouts.get(txn["source"])
            or transfers.get(txn["source"]) or fees.get(txn["source"])
        )
        if source is None:  # a dispute's withdrawal, which the dispute embeds
            dispute = disputes[txn["source"]]
            assert dispute["balance_transactions"] == [txn] and txn["type"] == "adjustment"
            assert txn["amount"] == -dispute["amount"] and txn["fee"] > 0 and txn["created"] == dispute["created"]
            continue
        assert source["balance_transaction"] == txn["id"]
        assert txn["created"] == source["created"] and txn["currency"] == source["currency"]
        if txn["type"] == "application_fee":  # the platform's cut of a charge, into the balance
            assert txn["amount"] == source["amount"] > 0 and txn["fee"] == 0
        elif txn["type"] == "charge":
            assert txn["amount"] == source["amount"] > txn["fee"] > 0
        else:
            assert txn["type"] in ("refund", "payout", "transfer") and txn["type"] == source["object"]
            assert txn["amount"] == -source["amount"] and txn["fee"] == 0
    settled = [c for c in charges.values() if c["status"] == "succeeded" and c["captured"]]
    assert len(txns) == len(settled) + len(refunds) + len(payouts) + len(disputes) + len(transfers) + len(fees)
    assert all(c["balance_transaction"] is None for c in charges.values() if c not in settled)


def test_amounts_are_in_minor_units_including_zero_decimal_currencies(emu):
    charges = emu.objects("charges")
    currencies = Counter(c["currency"] for c in charges)
    assert {"usd", "eur", "jpy"} <= set(currencies)
    yen = [c["amount"] for c in charges if c["currency"] == "jpy"]
    dollars = [c["amount"] for c in charges if c["currency"] == "usd"]
    assert min(yen) >= 500 and all(a % 10 == 0 for a in yen)  # ¥750, not ¥7.50
    assert min(dollars) >= 500  # at least $5.00, in cents


def test_the_account_has_the_variety_real_accounts_have(emu):
    charges = Counter(c["status"] for c in emu.objects("charges"))
    assert charges["succeeded"] > charges["failed"] > 0
    failed = next(c for c in emu.objects("charges") if c["status"] == "failed")
    assert failed["failure_code"] and failed["outcome"]["type"] in ("issuer_declined", "blocked")
    statuses = Counter(s["status"] for s in emu.objects("subscriptions"))
    assert statuses["active"] > statuses["canceled"] > 0
    assert any(not p["active"] for p in emu.objects("prices"))
    card = emu.objects("charges")[0]["payment_method_details"]["card"]
    assert re.fullmatch(r"[0-9]{4}", card["last4"]) and 1 <= card["exp_month"] <= 12 and card["brand"]


def test_each_day_starts_with_objects_created_exactly_at_midnight(emu):
    # Payouts start once funds are available, disputes and credit notes days after their source.
    for resource in (r for r in RESOURCE_NAMES if r not in ("payouts", "disputes", "credit_notes")):
        field = get_resource(resource).created_field  # `date` for invoice items
        created = [o[field] for o in emu.objects(resource) if field in o]
        midnights = {c for c in created if c % 86400 == 0}
        assert len(midnights) >= DAYS - 1, resource  # deleted customers hide their time


def test_same_seed_same_bytes_different_seed_different_data(emu, start_another):
    twin = start_another()  # the same settings as `emu`
    other = start_another(seed=4)
    for resource in ("charges", "subscriptions", "customers"):
        path = (
            f"/v1/{resource}?limit=100&status=all"
            if resource == "subscriptions"
            else f"/v1/{resource}?limit=100"
        )
        bodies = [
            requests.get(e.url + path, auth=(e.api_key, ""), timeout=10).content for e in (emu, twin, other)
        ]
        assert bodies[0] == bodies[1]
        assert bodies[0] != bodies[2]
    assert set(emu.listable_ids("charges")).isdisjoint(other.listable_ids("charges"))


def test_a_resources_generator_is_found_by_its_class_and_a_stranger_is_refused():
    from stripe_assets_emulator.config import EmulatorConfig
    from stripe_assets_emulator.dataset import Dataset
    from stripe_assets_emulator.generators.checkout_sessions import CheckoutSessions
    from stripe_assets_emulator.generators.promotion_codes import PromotionCodes

    ds = Dataset(EmulatorConfig(days=1, per_day=2))
    assert ds.generator(CheckoutSessions) is ds.generators["checkout_sessions"]

    class Impostor(PromotionCodes):  # serves promotion codes, but is not the data set's generator
        pass

    with pytest.raises(TypeError, match="generator of promotion_codes is PromotionCodes, not Impostor"):
        ds.generator(Impostor)
