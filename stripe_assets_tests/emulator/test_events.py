"""`GET /v1/events` over HTTP once the emulator's clock has moved on: order, paging, filters,
retention and what each event says about its object."""

from __future__ import annotations

from stripe_assets.ingest.stripe_schema import API_VERSION
from stripe_assets_emulator import FaultConfig

from .conftest import Api

DAY = 86400


def _all_events(api: Api, **params) -> list[dict]:
    found, after = [], None
    while True:
        page = api.ok("/v1/events", limit=7, **params, **({"starting_after": after} if after else {}))
        found += page["data"]
        if not page["has_more"]:
            return found
        after = page["data"][-1]["id"]


def test_events_are_listed_newest_first_and_paged_with_cursors(moved, moved_api):
    listed = _all_events(moved_api)
    truth = moved.events()
    assert [e["id"] for e in listed] == [e["id"] for e in truth]
    assert len(listed) > 12 * 20  # every change sends at least one event
    created = [e["created"] for e in listed]
    assert created == sorted(created, reverse=True)
    assert all(moved.now - 3 * DAY < t <= moved.now for t in created)
    # Backwards from the 50th event: the page right before it, newest first.
    before = moved_api.ok("/v1/events", limit=10, ending_before=listed[50]["id"])
    assert [e["id"] for e in before["data"]] == [e["id"] for e in listed[40:50]]
    assert before["has_more"] is True
    assert moved_api.ok("/v1/events", limit=3)["url"] == "/v1/events"


def test_each_event_has_stripes_shape(moved_api):
    event = moved_api.ok("/v1/events", limit=1)["data"][0]
    assert event["id"].startswith("evt_") and len(event["id"]) == 28
    assert event["object"] == "event" and event["livemode"] is False
    assert event["pending_webhooks"] == 0
    assert event["request"] == {"id": None, "idempotency_key": None}
    assert set(event) == {"id", "object", "api_version", "created", "data", "livemode",
                          "pending_webhooks", "request", "type"}  # fmt: skip
    assert moved_api.ok(f"/v1/events/{event['id']}") == event


def test_type_filters_exact_wildcard_and_types_array(moved, moved_api):
    truth = moved.events()
    refunded = _all_events(moved_api, type="charge.refunded")
    assert [e["id"] for e in refunded] == [e["id"] for e in truth if e["type"] == "charge.refunded"]
    assert len(refunded) == 20
    customer = _all_events(moved_api, type="customer.*")
    assert {e["type"] for e in customer} == {
        "customer.updated",
        "customer.deleted",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    }
    assert len(customer) == sum(e["type"].startswith("customer.") for e in truth)
    both = moved_api.ids("/v1/events", limit=100, **{"types[]": ["price.updated", "refund.created"]})
    assert both == [e["id"] for e in truth if e["type"] in ("price.updated", "refund.created")][:100]
    assert moved_api.ok("/v1/events", type="invoice.paid")["data"] == []
    error = moved_api.error("/v1/events", 400, type="charge.updated", **{"types[]": ["charge.refunded"]})
    assert "either type or types" in error["message"]


def test_created_filters_take_a_second_or_a_range(moved, moved_api):
    truth = moved.events()
    middle = truth[len(truth) // 2]["created"]
    newer = _all_events(moved_api, **{"created[gt]": middle})
    assert [e["id"] for e in newer] == [e["id"] for e in truth if e["created"] > middle]
    window = _all_events(moved_api, **{"created[gte]": middle - DAY, "created[lte]": middle})
    assert [e["id"] for e in window] == [e["id"] for e in truth if middle - DAY <= e["created"] <= middle]
    exact = _all_events(moved_api, created=middle)
    assert exact and all(e["created"] == middle for e in exact)


def test_unknown_parameters_and_bad_cursors_are_refused(moved_api):
    assert moved_api.error("/v1/events", 400, object_id="x")["message"] == "Received unknown parameter: object_id"
    missing = moved_api.error("/v1/events", 400, starting_after="evt_000000000000000000000000")
    assert missing["code"] == "resource_missing" and missing["param"] == "starting_after"
    assert moved_api.error("/v1/events/evt_nope", 404)["code"] == "resource_missing"
    assert moved_api.error("/v1/events", 400, limit=101)["param"] == "limit"


def test_only_the_last_thirty_days_of_events_are_listed(start_another):
    emu = start_another(days=3, per_day=30)
    api = Api(emu)
    emu.advance(days=1, changes={"customer_updated": 5})
    first = api.ids("/v1/events")
    emu.advance(days=25, changes={"price_archived": 3})
    assert api.ids("/v1/events", limit=100)[-5:] == first  # 26 days later: still listed
    emu.advance(days=5)  # the first events are now more than 30 days old
    listed = api.ids("/v1/events", limit=100)
    assert len(listed) == 3 and not set(listed) & set(first)
    assert api.error(f"/v1/events/{first[0]}", 404)["code"] == "resource_missing"
    assert api.error("/v1/events", 400, ending_before=first[0])["param"] == "ending_before"
    emu.advance(days=30)
    assert api.ok("/v1/events")["data"] == []


def test_faults_apply_to_events_like_any_endpoint(start_another):
    emu = start_another(FaultConfig(error_every=1), days=1)
    emu.advance(days=1, changes=5)
    assert Api(emu).error("/v1/events", 500)["type"] == "api_error"
    assert emu.requests_by_endpoint["/v1/events"] == 1


def test_an_older_api_version_for_a_share_of_events(start_another):
    emu = start_another(days=7, per_day=100)
    emu.advance(days=2, changes={"subscription_past_due": 60}, old_api_version_share=0.5)
    events = emu.events()
    assert len(events) == 60
    old = [e for e in events if e["api_version"] != API_VERSION]
    assert 15 < len(old) < 45 and {e["api_version"] for e in old} == {"2024-06-20"}
    assert old == [e for e in events if "current_period_end" in e["data"]["object"]]
    for event in old:  # the old shape: the billing period on the subscription, not its items
        sub, previous = event["data"]["object"], event["data"]["previous_attributes"]
        assert "current_period_end" not in sub["items"]["data"][0]
        assert previous["current_period_end"] < sub["current_period_end"]
        assert "current_period_end" not in previous["items"]["data"][0]
        current = Api(emu).ok(f"/v1/subscriptions/{sub['id']}")
        assert current["items"]["data"][0]["current_period_end"] == sub["current_period_end"]


def test_the_same_seed_and_calls_give_the_same_events_and_objects(start_another):
    runs = []
    for _ in range(2):
        emu = start_another(days=5, per_day=60)
        emu.advance(days=2, changes=150, old_api_version_share=0.2)
        pending = emu.changeable()["refund_failed"]  # what the mix left pending
        emu.advance(hours=30, changes={"refund_failed": min(pending, 2), "customer_deleted": 4, "coupon_deleted": 3})
        resources = (
            "charges", "customers", "refunds", "payment_intents", "products", "coupons", "disputes", "setup_intents",
            "transfers", "application_fees", "credit_notes", "invoices", "balance_transactions",
        )
        runs.append((emu.events(), [emu.objects(r) for r in resources]))
    assert runs[0] == runs[1]
    other = start_another(days=5, per_day=60, seed=4)
    other.advance(days=2, changes=150)
    assert [e["id"] for e in other.events()] != [e["id"] for e in runs[0][0]][: len(other.events())]
