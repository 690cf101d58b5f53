"""Objects moving along Stripe's lifecycles as the clock advances: what the API serves afterwards
and what each event says, read over HTTP."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
import requests
import stripe

from stripe_assets.catalog import RESOURCES, get_resource
from stripe_assets.ingest.stripe_schema import API_VERSION, deep_errors
from stripe_assets_emulator import CHANGE_KINDS, ChangeRequestError, FaultConfig, start_emulator
from stripe_assets_emulator.generators import GENERATED

from .conftest import MOVED, Api

# The first declared of each object (a payout's balance transactions are balance transactions).
RESOURCE_OF = {r.object: r for r in reversed(list(RESOURCES.values()))}


def _apply_previous(obj: dict[str, Any], previous: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """The object with the previous values put back (a null for a field `before` did not have
    means the field was new)."""
    rebuilt = dict(obj)
    for name, value in previous.items():
        if value is None and name not in before:
            rebuilt.pop(name, None)
        elif isinstance(value, dict) and isinstance(obj.get(name), dict) and name in before:
            rebuilt[name] = _apply_previous(obj[name], value, before[name])
        else:
            rebuilt[name] = value
    return rebuilt


def _changes_of_objects(moved) -> dict[str, list[dict]]:
    """Events about each object of the six resources, oldest first."""
    found: dict[str, list[dict]] = defaultdict(list)
    for event in reversed(moved.events()):
        if event["data"]["object"]["object"] in RESOURCE_OF:
            found[event["data"]["object"]["id"]].append(event)
    return found


def test_previous_attributes_hold_exactly_the_changed_fields_old_values(moved, before_moving):
    checked = 0
    for object_id, events in _changes_of_objects(moved).items():
        before, state = None, before_moving.get(object_id)
        for event in events:
            obj, previous = event["data"]["object"], event["data"].get("previous_attributes")
            if obj != state:  # a new change (one change may send several events)
                before, state = state, obj
            if previous is not None:
                assert previous and all(obj.get(k) != v for k, v in previous.items()), event["type"]
                if before is None and obj["object"] == "payment_method":  # a card no top-level list shows
                    continue
                assert _apply_previous(obj, previous, before) == before, event["type"]
                checked += 1
    assert checked > 150


def test_retrieve_and_list_serve_the_object_of_its_latest_event(moved, moved_api):
    latest = {oid: events[-1] for oid, events in _changes_of_objects(moved).items()}
    assert len(latest) > 200
    for object_id, event in latest.items():
        obj = event["data"]["object"]
        if RESOURCE_OF[obj["object"]].name not in GENERATED:  # child lists: no retrieve here
            continue
        path = f"{RESOURCE_OF[obj['object']].path}/{object_id}"
        if event["type"] in RESOURCE_OF[obj["object"]].deletion_events:
            assert moved_api.ok(path) == {"id": object_id, "object": obj["object"], "deleted": True}
        else:
            assert moved_api.ok(path) == obj, event["type"]
    listed = {o["id"]: o for o in moved.objects("charges")}
    for object_id, event in latest.items():
        if event["data"]["object"]["object"] == "charge":
            assert listed[object_id] == event["data"]["object"]


def _events_of(moved, type: str) -> list[dict]:
    return [e for e in moved.events() if e["type"] == type]


def test_charges_are_captured_refunded_disputed_and_edited(moved, moved_api):
    for event in _events_of(moved, "charge.captured"):
        charge = event["data"]["object"]
        assert charge["captured"] and charge["amount_captured"] == charge["amount"]
        assert event["data"]["previous_attributes"] == {
            "amount_captured": 0, "balance_transaction": None, "captured": False}  # fmt: skip
        txn = moved_api.ok(f"/v1/balance_transactions/{charge['balance_transaction']}")
        assert (txn["source"], txn["amount"], txn["created"]) == (charge["id"], charge["amount"], event["created"])
    events = moved.events()
    for i, event in enumerate(events):
        if event["type"] != "charge.refunded":
            continue
        charge, previous = event["data"]["object"], event["data"]["previous_attributes"]
        refund = events[i + 1]  # sent just before it
        assert refund["type"] == "refund.created" and refund["created"] == event["created"]
        assert charge["amount_refunded"] - previous["amount_refunded"] == refund["data"]["object"]["amount"]
        assert charge["refunded"] == (charge["amount_refunded"] == charge["amount"])
    disputes = _events_of(moved, "charge.dispute.created")
    assert [e["data"] for e in disputes] == [e["data"] for e in _events_of(moved, "charge.dispute.funds_withdrawn")]
    for event in disputes:
        dispute = event["data"]["object"]
        assert dispute["object"] == "dispute" and "previous_attributes" not in event["data"]
        assert moved_api.ok(f"/v1/charges/{dispute['charge']}")["disputed"] is True
        assert dispute["balance_transactions"][0]["reporting_category"] == "dispute"
    for event in _events_of(moved, "charge.updated"):
        assert set(event["data"]["previous_attributes"]) <= {"description", "metadata"}


def test_refunds_made_by_changes_are_listed_with_their_balance_transactions(moved, moved_api):
    created = [e["data"]["object"] for e in _events_of(moved, "refund.created")]
    assert len(created) == 20
    since = {"created[gt]": moved.now - 3 * 86400, "limit": 100}
    listed = moved_api.ids("/v1/refunds", **since)
    assert {r["id"] for r in created} <= set(listed)
    for refund in created:
        assert moved_api.ids("/v1/refunds", charge=refund["charge"], limit=100).count(refund["id"]) == 1
        txn = moved_api.ok("/v1/balance_transactions", source=refund["id"])["data"]
        assert [t["id"] for t in txn][-1] == refund["balance_transaction"]
        assert txn[-1]["amount"] == -refund["amount"] and txn[-1]["type"] == "refund"
        expanded = moved_api.ok(f"/v1/refunds/{refund['id']}", **{"expand[]": "charge"})["charge"]
        assert expanded == moved_api.ok(f"/v1/charges/{refund['charge']}")


def test_refunds_settle_or_fail(moved, moved_api):
    updated = _events_of(moved, "refund.updated")
    legacy = _events_of(moved, "charge.refund.updated")
    assert len(updated) == len(legacy) == 40
    assert [e["data"] for e in updated] == [e["data"] for e in legacy]
    failed = [e for e in updated if e["data"]["object"]["status"] == "failed"]
    assert len(failed) == 20 == len(_events_of(moved, "refund.failed"))
    for event in updated:
        assert event["data"]["previous_attributes"]["status"] == "pending"
    for event in failed:
        refund = event["data"]["object"]
        txn = moved_api.ok(f"/v1/balance_transactions/{refund['failure_balance_transaction']}")
        assert (txn["type"], txn["amount"], txn["source"]) == ("refund_failure", refund["amount"], refund["id"])


def test_subscriptions_end_trials_fall_past_due_and_are_canceled(moved, moved_api):
    # Status moves (the others change items: test_children.py).
    updated = [
        e for e in _events_of(moved, "customer.subscription.updated") if "status" in e["data"]["previous_attributes"]
    ]
    moves = sorted((e["data"]["previous_attributes"]["status"], e["data"]["object"]["status"]) for e in updated)
    assert moves == [("active", "past_due")] * 20 + [("trialing", "active")] * 20
    for event in updated:
        sub = event["data"]["object"]
        assert sub["items"]["data"][0]["current_period_start"] == event["created"]
        if sub["status"] == "active":  # at the trial's end, or ended early now
            assert sub["trial_end"] == event["created"] == sub["billing_cycle_anchor"]
        assert sub["latest_invoice"] != event["data"]["previous_attributes"]["latest_invoice"]
    deleted = _events_of(moved, "customer.subscription.deleted")
    assert len(deleted) >= 20  # and those of deleted customers
    for event in deleted:
        sub = event["data"]["object"]
        assert sub["status"] == "canceled" and sub["canceled_at"] == sub["ended_at"] == event["created"]
    past_due = {e["data"]["object"]["id"] for e in updated if e["data"]["object"]["status"] == "past_due"}
    assert past_due <= set(moved_api.ids("/v1/subscriptions", status="past_due", limit=100))
    canceled = {e["data"]["object"]["id"] for e in deleted}
    assert not canceled & set(moved_api.ids("/v1/subscriptions", limit=100, **{"created[gte]": 0}))
    every = set(moved.listable_ids("subscriptions"))
    assert canceled <= every  # listed with status=all
    assert all(moved_api.ok(f"/v1/subscriptions/{i}")["status"] == "canceled" for i in canceled)


def test_edited_customers_are_found_by_their_new_email(moved, moved_api):
    edits = [e for e in _events_of(moved, "customer.updated") if "email" in e["data"]["previous_attributes"]]
    assert edits
    for event in edits:
        customer = event["data"]["object"]
        assert moved_api.ids("/v1/customers", email=customer["email"]) == [customer["id"]]
        assert customer["id"] not in moved_api.ids("/v1/customers", email=event["data"]["previous_attributes"]["email"])


def test_deleted_customers_leave_the_list_and_retrieve_as_stubs(moved, moved_api):
    deleted = _events_of(moved, "customer.deleted")
    assert len(deleted) == 20
    listed = set()
    after = None
    while True:
        page = moved_api.ok("/v1/customers", limit=100, **({"starting_after": after} if after else {}))
        listed |= {c["id"] for c in page["data"]}
        if not page["has_more"]:
            break
        after = page["data"][-1]["id"]
    for event in deleted:
        customer = event["data"]["object"]
        assert "deleted" not in customer and customer["object"] == "customer"  # the full customer
        assert customer["id"] not in listed
        assert moved_api.ok(f"/v1/customers/{customer['id']}") == {
            "id": customer["id"], "object": "customer", "deleted": True}  # fmt: skip
        # Its subscriptions were canceled at the same second, just before.
        for sub in moved_api.ok("/v1/subscriptions", customer=customer["id"], status="all")["data"]:
            assert sub["status"] in ("canceled", "incomplete_expired")
    assert len(listed) == len(moved.listable_ids("customers"))


def test_prices_are_archived(moved, moved_api):
    for event in _events_of(moved, "price.updated"):
        price = event["data"]["object"]
        assert price["active"] is False and event["data"]["previous_attributes"] == {"active": True}
        assert price["id"] not in moved_api.ids("/v1/prices", active="true", limit=100, created=price["created"])
        assert price["id"] in moved_api.ids("/v1/prices", active="false", limit=100, created=price["created"])


def test_changed_objects_and_events_keep_stripes_schema(moved):
    classes = {**{o: r.stripe_class for o, r in RESOURCE_OF.items()}, "dispute": stripe.Dispute}
    for event in moved.events():
        assert deep_errors(stripe.Event, event) == [], event["id"]
        assert event["api_version"] == API_VERSION
        obj = event["data"]["object"]
        assert deep_errors(classes[obj["object"]], obj) == [], (event["type"], obj["id"])
    for resource in GENERATED:
        cls = get_resource(resource).stripe_class
        for obj in moved.objects(resource, created_gte=moved.now - 3 * 86400):  # created by changes
            assert deep_errors(cls, obj) == [], obj["id"]


def test_a_request_for_more_changes_than_can_happen_changes_nothing(start_another):
    emu = start_another(days=2, per_day=100)
    api = Api(emu)
    before = (emu.now, api.ok("/v1/charges", limit=100))
    can = emu.changeable()
    assert requests.get(emu.url + "/_emulator/changeable", timeout=10).json() == can
    uncaptured = [c for c in emu.objects("charges") if c["status"] == "succeeded" and not c["captured"]]
    assert can["charge_captured"] == len(uncaptured) > 0
    with pytest.raises(ChangeRequestError, match=f"only {len(uncaptured)} objects"):
        emu.advance(days=1, changes={"customer_updated": 3, "charge_captured": len(uncaptured) + 1})
    response = requests.post(
        emu.url + "/_emulator/advance", params={"days": 1, "changes[charge_captured]": 500}, timeout=10
    )
    assert response.status_code == 400 and "charge_captured" in response.json()["error"]["message"]
    assert (emu.now, api.ok("/v1/charges", limit=100)) == before
    assert api.ok("/v1/events")["data"] == []
    with pytest.raises(ChangeRequestError, match="unknown kind"):
        emu.advance(days=1, changes={"charge_exploded": 1})
    emu.advance(days=1, changes={"charge_captured": len(uncaptured)})  # all of them
    assert emu.changeable()["charge_captured"] == 0
    assert all(c["captured"] for c in emu.objects("charges") if c["status"] == "succeeded")


def test_the_clock_is_moved_over_http(start_another):
    emu = start_another(days=3, per_day=200)  # three days: the last one's payouts are in transit
    control = emu.url + "/_emulator/"
    start = requests.get(control + "clock", timeout=10).json()
    assert start["now"] == emu.now == start["generated"]["end"]
    moved = requests.post(control + "advance", params={"hours": 12, "changes": 24}, timeout=10).json()
    assert moved["now"] == start["now"] + 12 * 3600 == emu.now
    assert sum(moved["changes"].values()) == 24 and set(moved["changes"]) == set(CHANGE_KINDS)
    assert moved["events"] == len(Api(emu).ids("/v1/events", limit=100)) == sum(moved["event_types"].values())
    assert requests.get(control + "advance", timeout=10).status_code == 405
    refused = requests.post(control + "advance", params={"weeks": 1}, timeout=10)
    assert refused.status_code == 400 and "weeks" in refused.json()["error"]["message"]


def test_a_separate_process_advances_like_the_callers_copy(start_another):
    with start_emulator(MOVED, separate_process=True) as emu:
        emu.advance(days=1, changes=120)
        emu.advance(days=1, changes={"customer_deleted": 5})
        api = Api(emu)
        listed = api.ids("/v1/events", limit=100)
        assert listed == [e["id"] for e in emu.events()][:100]
        assert api.ok(f"/v1/customers/{emu.listable_ids('customers')[0]}") == emu.objects(
            "customers", include_hidden=False
        )[0]


def test_pages_read_before_an_advance_are_not_served_stale(start_another):
    emu = start_another(days=2, per_day=50)
    api = Api(emu)
    first = api.ok("/v1/customers", limit=100)
    prices = api.ok("/v1/prices", limit=100, active="true")
    emu.advance(days=1, changes={"customer_deleted": 10, "customer_updated": 10, "price_archived": 5})
    again = api.ok("/v1/customers", limit=100)
    assert len(again["data"]) == len(first["data"]) - 10
    assert again["data"] == emu.objects("customers", include_hidden=False)[:100]
    assert len(api.ok("/v1/prices", limit=100, active="true")["data"]) == len(prices["data"]) - 5


def test_objects_served_invalid_stay_invalid_in_their_events(start_another):
    emu = start_another(FaultConfig(invalid_fraction=0.3), days=3, per_day=100)
    emu.advance(days=1, changes={"customer_updated": 40, "charge_updated": 40})
    invalid = {**emu.invalid_records("customers"), **emu.invalid_records("charges")}
    broken = [e for e in emu.events() if e["data"]["object"]["id"] in invalid]
    assert 10 < len(broken) < 40
    for event in broken:
        obj = event["data"]["object"]
        cls = RESOURCE_OF[obj["object"]].stripe_class
        assert deep_errors(cls, obj), invalid[obj["id"]]
        assert Api(emu).ok(f"{RESOURCE_OF[obj['object']].path}/{obj['id']}") == obj


def _listed_transactions(api: Api) -> dict[str, dict]:
    """Every balance transaction the list endpoint serves now, by id."""
    found: dict[str, dict] = {}
    params: dict[str, Any] = {"limit": 100}
    while True:
        page = api.ok("/v1/balance_transactions", **params)
        found.update((t["id"], t) for t in page["data"])
        if not page["has_more"]:
            return found
        params["starting_after"] = page["data"][-1]["id"]


def test_pending_balance_transactions_become_available_once_available_on_passes(start_another):
    """Stripe moves `status` from pending to available at `available_on`, sending no event."""
    emu = start_another(days=5, per_day=60)
    api = Api(emu)
    before = _listed_transactions(api)
    pending = {i for i, t in before.items() if t["status"] == "pending"}
    assert pending and all(before[i]["available_on"] > emu.now for i in pending)
    steps = [
        dict(days=1, hours=2),
        dict(days=1, changes={"charge_captured": 3, "charge_refunded": 3}),  # new transactions too
        dict(hours=20),
        dict(days=3),
    ]
    still = set(pending)
    for step in steps:
        events_before = len(emu.events())
        made = emu.advance(**step)
        listed = _listed_transactions(api)
        for txn in listed.values():  # exactly what the clock says, for old and new transactions
            assert txn["status"] == ("available" if txn["available_on"] <= emu.now else "pending"), (step, txn)
        assert made.settled == len({i for i in still if listed[i]["status"] == "available"})
        for txn_id in sorted(pending)[:5]:  # retrieve agrees with the list
            assert api.ok(f"/v1/balance_transactions/{txn_id}") == listed[txn_id]
        for txn_id in pending:  # nothing but the status changed
            assert {**listed[txn_id], "status": None} == {**before[txn_id], "status": None}
        new_events = emu.events()[: len(emu.events()) - events_before]
        assert not [e for e in new_events if e["data"]["object"]["object"] == "balance_transaction"]
        still = {i for i, t in listed.items() if t["status"] == "pending"}
    assert all(listed[i]["status"] == "available" for i in pending)
    assert not still
