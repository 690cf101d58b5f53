"""Checkout sessions in the emulator: listed at /v1/checkout/sessions, each completed one pointing at
the intent, subscription or setup intent it made; open ones complete or expire as the clock moves on."""

from __future__ import annotations

from stripe_assets_emulator.expand import INCLUDED_CHILDREN
from stripe_assets_emulator.generators.checkout_sessions import EXPIRY_SECONDS

PATH = "/v1/checkout/sessions"
MADE = {"payment": "payment_intent", "subscription": "subscription", "setup": "setup_intent"}


def test_completed_sessions_point_at_what_they_made_and_open_ones_at_nothing(emu, api):
    sessions = emu.objects("checkout_sessions")
    intents = {pi["id"]: pi for pi in emu.objects("payment_intents")}
    subscriptions = {s["id"]: s for s in emu.objects("subscriptions")}
    setup_intents = {si["id"]: si for si in emu.objects("setup_intents")}
    for cs in sessions:
        assert cs["id"].startswith("cs_test_") and cs["object"] == "checkout.session"
        assert cs["expires_at"] == cs["created"] + EXPIRY_SECONDS
        made = {name: cs[name] for name in MADE.values() if cs[name] is not None}
        assert (cs["url"] is not None) == (cs["status"] == "open")
        if cs["status"] != "complete":
            assert made == {} and cs["customer"] is None
            assert cs["status"] == "expired" or cs["expires_at"] > emu.now
            continue
        assert list(made) == [MADE[cs["mode"]]]
        target = made[MADE[cs["mode"]]]
        if cs["mode"] == "payment":
            assert intents[target]["status"] == "succeeded" and intents[target]["created"] <= cs["created"]
            assert (cs["amount_total"], cs["currency"], cs["customer"]) == (
                intents[target]["amount"], intents[target]["currency"], intents[target]["customer"]
            )
            assert cs["payment_status"] == "paid"
        elif cs["mode"] == "subscription":
            assert subscriptions[target]["customer"] == cs["customer"]
            assert subscriptions[target]["latest_invoice"] == cs["invoice"]
            assert subscriptions[target]["created"] <= cs["created"]
        else:
            assert setup_intents[target]["status"] == "succeeded"
            assert setup_intents[target]["customer"] == cs["customer"]
            assert cs["payment_status"] == "no_payment_required" and cs["amount_total"] is None
    assert {(cs["mode"], cs["status"]) for cs in sessions} >= {
        (mode, status) for mode in MADE for status in ("complete", "expired")
    }
    cs = sessions[len(sessions) // 2]
    assert api.ok(f"{PATH}/{cs['id']}") == cs
    page = api.ok(PATH, limit=100)
    assert page["url"] == PATH and [s["id"] for s in page["data"]] == [s["id"] for s in sessions[:100]]
    completed = next(s for s in sessions if s["payment_intent"])
    assert api.ids(PATH, payment_intent=completed["payment_intent"]) == [
        s["id"] for s in sessions if s["payment_intent"] == completed["payment_intent"]
    ]
    assert api.ids(PATH, status="open", limit=100) == [s["id"] for s in sessions if s["status"] == "open"][:100]
    # Not an endpoint: the namespace alone, or a session's id under /v1/
    assert api.error("/v1/checkout", 404)["message"].startswith("Unrecognized request URL")
    assert api.error(f"/v1/checkout_sessions/{cs['id']}", 404)["message"].startswith("Unrecognized request URL")


def _events(moved, type: str) -> list[dict]:
    return [e for e in moved.events() if e["type"] == type]


def test_open_sessions_are_completed_or_expire(moved, moved_api, before_moving):
    completed = _events(moved, "checkout.session.completed")
    expired = _events(moved, "checkout.session.expired")
    assert len(completed) == len(expired) == 20
    for event in completed + expired:
        cs = event["data"]["object"]
        assert before_moving[cs["id"]]["status"] == "open"
        assert event["data"]["previous_attributes"]["status"] == "open"
        assert moved_api.ok(f"{PATH}/{cs['id']}") == cs
    for event in completed:
        cs = event["data"]["object"]
        target = cs[MADE[cs["mode"]]]
        assert cs["status"] == "complete" and target in before_moving and cs["url"] is None
    for event in expired:
        cs = event["data"]["object"]
        assert cs["status"] == "expired" and cs["url"] is None and cs[MADE[cs["mode"]]] is None


def test_line_items_are_listed_per_session_and_add_up_to_its_amount(emu, api):
    subscriptions = {s["id"]: s for s in emu.objects("subscriptions")}
    modes = set()
    for session in emu.objects("checkout_sessions")[:60]:
        assert "line_items" not in session  # only when expanded
        lines = api.ok(f"{PATH}/{session['id']}/line_items", limit=100)
        assert lines["has_more"] is False
        items = lines["data"]
        if session["amount_total"] is None:  # setup mode: nothing sold
            assert items == [] and session["mode"] == "setup"
            continue
        modes.add(session["mode"])
        assert sum(i["amount_total"] for i in items) == session["amount_total"]
        assert {i["currency"] for i in items} == {session["currency"]}
        assert all(i["id"].startswith("li_") and i["object"] == "item" for i in items)
        if session["subscription"] is not None:
            sold = [(i["price"]["id"], i["quantity"]) for i in items]
            billed = subscriptions[session["subscription"]]["items"]["data"]
            assert sold == [(i["price"]["id"], i["quantity"]) for i in billed]
    assert modes == {"payment", "subscription"}
    assert api.error(f"{PATH}/cs_test_missing/line_items", 404)["param"] == "id"


def test_expanding_line_items_shows_each_sessions_first_lines_as_a_list(api):
    plain = api.ok(PATH, limit=50)["data"]
    listed = api.ok(PATH, limit=50, **{"expand[]": "data.line_items"})["data"]
    assert [s["id"] for s in listed] == [s["id"] for s in plain]
    for before, session in zip(plain, listed, strict=True):
        shown = session.pop("line_items")
        assert session == before  # nothing else changes
        lines = api.ok(f"{PATH}/{session['id']}/line_items", limit=100)["data"]
        assert shown == {
            "object": "list",
            "data": lines[:INCLUDED_CHILDREN],
            "has_more": len(lines) > INCLUDED_CHILDREN,
            "url": f"{PATH}/{session['id']}/line_items",
        }
    one = api.ok(f"{PATH}/{plain[0]['id']}", **{"expand[]": "line_items"})
    assert one["line_items"]["url"] == f"{PATH}/{plain[0]['id']}/line_items"
