"""Listing like Stripe: order, page size, cursors and created filters, over real HTTP."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from stripe_assets_emulator.generators import GENERATED as RESOURCE_NAMES

from .conftest import DAYS, START

MIDNIGHT = int(datetime(START.year, START.month, START.day + 1, tzinfo=UTC).timestamp())


def test_a_list_has_stripes_envelope_and_default_page_size(api):
    page = api.ok("/v1/charges")
    assert set(page) == {"object", "url", "has_more", "data"}
    assert page["object"] == "list" and page["url"] == "/v1/charges" and page["has_more"] is True
    assert len(page["data"]) == 10  # Stripe's default limit
    assert all(o["object"] == "charge" for o in page["data"])


@pytest.mark.parametrize("resource", RESOURCE_NAMES)
def test_lists_are_newest_first_with_ties_broken_by_id(emu, resource):
    objects = emu.objects(resource, include_hidden=False)
    keys = [(o.get("created"), o["id"]) for o in objects if "created" in o]
    assert keys == sorted(keys, reverse=True)


def test_objects_share_created_seconds_and_cursors_split_ties_exactly(api, emu):
    """A page boundary inside a run of equal `created` values loses and repeats nothing."""
    objects = emu.objects("charges")
    tied = [created for created, n in Counter(o["created"] for o in objects).items() if n >= 3]
    assert tied, "the data set should have several charges created in the same second"
    ids = [o["id"] for o in objects]
    first_tied = next(i for i, o in enumerate(objects) if o["created"] == tied[0])
    # Cut the list one object into the tie: the next page must start with the rest of it.
    head = api.ids("/v1/charges", limit=first_tied + 1)
    rest = api.ids("/v1/charges", limit=5, starting_after=head[-1])
    assert head + rest == ids[: len(head) + 5]
    assert objects[first_tied + 1]["created"] == tied[0]  # the cursor really sat inside the tie


def test_starting_after_the_last_item_of_a_page_returns_the_next_page(api, emu):
    truth = emu.listable_ids("refunds")
    first = api.ok("/v1/refunds", limit=7)
    second = api.ok("/v1/refunds", limit=7, starting_after=first["data"][-1]["id"])
    assert [o["id"] for o in first["data"] + second["data"]] == truth[:14]
    assert second["has_more"] is True


def test_paging_to_the_end_returns_every_object_once_and_says_when_it_is_done(api, emu):
    seen, params = [], {"limit": 100}
    while True:
        page = api.ok("/v1/charges", **params)
        seen += [o["id"] for o in page["data"]]
        if not page["has_more"]:
            break
        params["starting_after"] = seen[-1]
    assert seen == emu.listable_ids("charges")
    assert len(seen) == 40 * DAYS


def test_ending_before_returns_the_newer_neighbours_still_newest_first(api, emu):
    truth = emu.listable_ids("customers")
    cursor = truth[25]
    page = api.ok("/v1/customers", limit=10, ending_before=cursor)
    assert [o["id"] for o in page["data"]] == truth[15:25]
    assert page["has_more"] is True  # 15 newer customers remain
    top = api.ok("/v1/customers", limit=10, ending_before=truth[8])
    assert [o["id"] for o in top["data"]] == truth[:8]
    assert top["has_more"] is False


def test_ending_before_at_a_page_boundary_gives_back_the_previous_page(api):
    first = api.ok("/v1/prices", limit=5)
    second = api.ok("/v1/prices", limit=5, starting_after=first["data"][-1]["id"])
    back = api.ok("/v1/prices", limit=5, ending_before=second["data"][0]["id"])
    assert back["data"] == first["data"]
    assert back["has_more"] is False


def test_an_object_created_at_midnight_belongs_to_the_day_it_starts(api, emu):
    at_midnight = [o["id"] for o in emu.objects("charges") if o["created"] == MIDNIGHT]
    assert at_midnight, "some charges are created exactly at midnight"
    day_two = api.ids("/v1/charges", limit=100, **{"created[gte]": MIDNIGHT, "created[lt]": MIDNIGHT + 86400})
    day_one = api.ids("/v1/charges", limit=100, **{"created[gte]": MIDNIGHT - 86400, "created[lt]": MIDNIGHT})
    after = api.ids("/v1/charges", limit=100, **{"created[gt]": MIDNIGHT, "created[lte]": MIDNIGHT + 86400})
    assert set(at_midnight) <= set(day_two)
    assert not set(at_midnight) & set(day_one)
    assert not set(at_midnight) & set(after)
    assert len(day_one) == len(day_two) == 40


def test_created_as_an_integer_matches_that_second_only(api, emu):
    exact = api.ids("/v1/charges", created=MIDNIGHT)
    assert exact == [o["id"] for o in emu.objects("charges") if o["created"] == MIDNIGHT]


def test_created_filters_and_cursors_combine(api, emu):
    window = {"created[gte]": MIDNIGHT, "created[lt]": MIDNIGHT + 86400}
    truth = emu.listable_ids("balance_transactions", MIDNIGHT, MIDNIGHT + 86400)
    first = api.ids("/v1/balance_transactions", limit=30, **window)
    rest = api.ids("/v1/balance_transactions", limit=100, starting_after=first[-1], **window)
    assert first + rest == truth


@pytest.mark.parametrize(
    ("params", "param", "message"),
    [
        ({"limit": 0}, "limit", "This value must be greater than or equal to 1."),
        ({"limit": 101}, "limit", "This value must be less than or equal to 100."),
        ({"limit": "ten"}, "limit", "Invalid integer: ten"),
        ({"created[gte]": "yesterday"}, "created[gte]", "Invalid integer: yesterday"),
        ({"created": "1.5"}, "created", "Invalid integer: 1.5"),
        ({"created[after]": 1}, "created[after]", "Received unknown parameter: created[after]"),
        ({"colour": "red"}, "colour", "Received unknown parameter: colour"),
    ],
)
def test_bad_list_parameters_are_rejected_like_stripe_does(api, params, param, message):
    error = api.error("/v1/charges", 400, **params)
    assert error == {"type": "invalid_request_error", "message": message, "param": param}


def test_both_cursors_at_once_are_rejected(api, emu):
    some_id = emu.listable_ids("charges")[3]
    error = api.error("/v1/charges", 400, starting_after=some_id, ending_before=some_id)
    assert error["type"] == "invalid_request_error"
    assert "ending_before, starting_after" in error["message"]


@pytest.mark.parametrize("cursor", ["starting_after", "ending_before"])
def test_an_unknown_cursor_is_a_resource_missing_error(api, emu, cursor):
    customer_id = emu.listable_ids("customers")[0]  # exists, but is not a charge
    for unknown in ("ch_000000000000000000000000", customer_id, "ch_zz"):
        error = api.error("/v1/charges", 400, **{cursor: unknown})
        assert error["code"] == "resource_missing"
        assert error["param"] == cursor
        assert error["message"] == f"No such charge: '{unknown}'"


def test_expand_replaces_ids_with_the_objects_they_name(api):
    plain = api.ok("/v1/refunds", limit=3)
    expanded = api.ok("/v1/refunds", limit=3, **{"expand[]": ["data.charge", "data.charge.customer"]})
    for before, after in zip(plain["data"], expanded["data"], strict=True):
        assert after["charge"]["id"] == before["charge"]
        assert after["charge"]["object"] == "charge"
        customer = after["charge"]["customer"]
        assert customer is None or customer["object"] == "customer"
    # The SDKs' spelling (expand[0]) works too, and unexpandable fields are refused.
    assert (
        api.ok("/v1/refunds", limit=1, **{"expand[0]": "data.charge"})["data"][0]["charge"]["object"]
        == "charge"
    )
    assert api.error("/v1/refunds", 400, **{"expand[]": "data.amount"})["message"] == (
        "This property cannot be expanded (data.amount)."
    )
