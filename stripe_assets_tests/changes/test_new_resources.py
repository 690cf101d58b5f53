"""Payment intents, products, payouts, disputes, coupons, setup intents, transfers, application
fees, credit notes, checkout sessions, early fraud warnings, tax rates, promotion codes and invoice items loaded
over HTTP stay equal to the API as the account changes."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta

from stripe_assets_emulator import CHANGE_KINDS, EmulatorConfig, start_emulator
from stripe_assets_emulator.generators.setup_intents import OPEN as OPEN_SETUP
from stripe_assets_tests.operations.harness import make_project

START = date(2026, 10, 1)
DAYS = 4
LAST = (START + timedelta(days=DAYS - 1)).isoformat()
RESOURCES = (
    "payment_intents", "products", "payouts", "disputes", "coupons", "setup_intents", "transfers", "application_fees",
    "credit_notes", "invoices", "balance_transactions", "charges", "checkout_sessions", "subscriptions",
    "early_fraud_warnings", "tax_rates", "promotion_codes", "invoice_items",
)
DATAFLOWS = "dataflows:\n" + "".join(
    f"  - {{name: stripe_{r}, resource: {r}, start_time: 2026-10-01T00:10:00Z, history_start: 2026-10-01T00:00:00Z}}\n"
    for r in RESOURCES
)


def _assert_equal_to_api(project, emu) -> None:
    for resource in RESOURCES:
        api = {o["id"]: o for o in emu.objects(resource)}
        rows = project.query(f"SELECT id, raw, _deleted_at FROM stripe.{resource}")
        assert sorted(r[0] for r in rows) == sorted(api), resource  # every object, once
        for object_id, raw, deleted_at in rows:
            if api[object_id].get("deleted"):
                assert deleted_at is not None, object_id
            else:
                assert (json.loads(raw), deleted_at) == (api[object_id], None), object_id


def test_new_resources_load_and_follow_their_changes(tmp_path):
    with start_emulator(EmulatorConfig(seed=5, start=START, days=DAYS, per_day=80)) as emu:
        project = make_project(tmp_path, emu)
        project.dataflows.write_text(DATAFLOWS)
        for resource in RESOURCES:
            assert project.load(emu, resource, START.isoformat(), LAST).success, resource
        _assert_equal_to_api(project, emu)
        charges = {c["id"]: c for c in emu.objects("charges")}
        for object_id, latest_charge, status in project.query(
            "SELECT id, latest_charge, status FROM stripe.payment_intents"
        ):
            assert charges[latest_charge]["payment_intent"] == object_id and status

        waiting = [si["id"] for si in emu.objects("setup_intents") if si["status"] in OPEN_SETUP]
        can = emu.changeable()
        changes = {
            "charge_captured": min(3, can["charge_captured"]),
            "charge_refunded": 6,
            "payment_intent_canceled": 5,
            "product_updated": 10,
            "product_deleted": 5,
            "payout_paid": 2,
            "payout_failed": 1,
            "charge_disputed": 2,
            "dispute_updated": 1,
            "dispute_closed": 2,
            "coupon_updated": 4,
            "coupon_deleted": 3,
            "setup_intent_succeeded": 4,
            "setup_intent_canceled": 2,
            "transfer_updated": 3,
            "transfer_reversed": 4,
            "application_fee_refunded": 3,
            "credit_note_updated": 2,
            "credit_note_voided": 2,
            "checkout_session_completed": 3,
            "checkout_session_expired": 2,
            "tax_rate_updated": 3,
            "tax_rate_archived": 4,
            "promotion_code_updated": 2,
            "promotion_code_deactivated": 3,
            "invoice_item_deleted": 2,
        }
        assert changes["charge_captured"] > 0
        assert emu.advance(days=2, changes=changes).changes == {**dict.fromkeys(CHANGE_KINDS, 0), **changes}
        for resource in RESOURCES:  # one partition's run applies every change, in every partition
            assert project.load(emu, resource, LAST).success, resource
        later = (START + timedelta(days=DAYS + 1)).isoformat()  # balance transactions made by changes
        for resource in ("balance_transactions", "disputes"):  # objects made by changes
            assert project.load(emu, resource, (START + timedelta(days=DAYS)).isoformat(), later).success
        _assert_equal_to_api(project, emu)
        # the intents that waited for their customer: 4 saved a card, 2 were canceled
        landed = Counter(project.query(
            "SELECT status, payment_method IS NOT NULL FROM stripe.setup_intents WHERE id IN "
            f"({', '.join(repr(i) for i in waiting)})"
        ))
        assert (landed[("succeeded", True)], landed[("canceled", False)] + landed[("canceled", True)]) == (4, 2)
        assert landed.total() == len(waiting) > 6
        # a warning is actionable while its charge is neither fully refunded nor disputed
        assert project.query(
            "SELECT count(*) FROM stripe.early_fraud_warnings w JOIN stripe.charges c ON c.id = w.charge "
            "WHERE w.actionable = (c.refunded OR c.disputed)"
        ) == [(0,)]
        turned = {e["data"]["object"]["id"] for e in emu.events() if e["type"] == "radar.early_fraud_warning.updated"}
        assert turned and project.query(
            f"SELECT count(*) FROM stripe.early_fraud_warnings WHERE id IN ({', '.join(map(repr, turned))}) "
            "AND NOT actionable"
        ) == [(len(turned),)]
        # completed sessions point at intents, subscriptions and setup intents of the same tables
        assert project.query("SELECT count(*) FROM stripe.checkout_sessions WHERE status = 'open'") == [
            (sum(cs["status"] == "open" for cs in emu.objects("checkout_sessions")),)
        ]
        for made in ("payment_intent", "subscription", "setup_intent"):
            dangling = project.query(
                f"SELECT count(*) FROM stripe.checkout_sessions c LEFT JOIN stripe.{made}s t ON t.id = c.{made} "
                f"WHERE c.{made} IS NOT NULL AND t.id IS NULL"
            )
            assert dangling == [(0,)], made
        assert project.query(
            "SELECT count(*) FROM stripe.checkout_sessions WHERE status = 'complete' AND "
            "coalesce(payment_intent, subscription, setup_intent) IS NULL"
        ) == [(0,)]
        assert project.query("SELECT count(*) FROM stripe.products WHERE _deleted_at IS NOT NULL") == [(5,)]
        assert project.query("SELECT count(*) FROM stripe.coupons WHERE _deleted_at IS NOT NULL") == [(3,)]
        # a code is active only while its coupon is valid and not deleted
        assert project.query(
            "SELECT count(*) FROM stripe.promotion_codes p JOIN stripe.coupons c ON c.id = p.coupon "
            "WHERE p.active AND (NOT c.valid OR c._deleted_at IS NOT NULL)"
        ) == [(0,)]
        # invoice items sit in the partition of their `date` (they have no `created`)
        assert project.query(
            "SELECT count(DISTINCT _partition), count(*) FILTER (WHERE strftime(created, '%Y-%m-%d') != _partition "
            "OR epoch(created) != CAST(raw->>'date' AS BIGINT)) FROM stripe.invoice_items"
        ) == [(DAYS, 0)]
        assert project.query("SELECT count(*) FROM stripe.invoice_items WHERE _deleted_at IS NOT NULL") == [(2,)]
        archived = sum(not r["active"] for r in emu.objects("tax_rates"))
        assert project.query("SELECT count(*) FROM stripe.tax_rates WHERE NOT active") == [(archived,)]
        assert project.query("SELECT count(*) FROM stripe.payment_intents WHERE status = 'canceled'") == [(5,)]
        assert project.query(
            "SELECT count(*) FROM stripe.payment_intents WHERE canceled_at IS NOT NULL AND status != 'canceled'"
        ) == [(0,)]
        # each payout's balance transaction, and a failed one's return, joined by source
        payouts = {p["id"]: p["status"] for p in emu.objects("payouts")}
        expected = Counter((payouts[t["source"]], t["type"]) for t in emu.objects("balance_transactions")
                           if t["source"] in payouts)
        assert expected[("failed", "payout_failure")] == 1
        joined = project.query(
            "SELECT p.status, t.type, count(*) FROM stripe.payouts p JOIN stripe.balance_transactions t "
            "ON t.source = p.id GROUP BY ALL"
        )
        assert {(status, kind): n for status, kind, n in joined} == expected
        # reversed transfers: the amount back, in a balance transaction whose source is the reversal
        assert project.query("SELECT count(*) FROM stripe.transfers WHERE amount_reversed > 0") == [(4,)]
        reversals = {
            r["id"]: r["amount"]
            for (raw,) in project.query("SELECT raw FROM stripe.transfers WHERE amount_reversed > 0")
            for r in json.loads(raw)["reversals"]["data"]
        }
        returned = project.query(
            "SELECT source, amount FROM stripe.balance_transactions WHERE type = 'transfer_refund'"
        )
        assert dict(returned) == reversals and len(reversals) == 4
        # refunded fees: each charge names its fee; the refunds left the balance
        assert project.query(
            "SELECT count(*) FROM stripe.application_fees f JOIN stripe.charges c ON c.id = f.charge "
            "WHERE json_extract_string(c.raw, '$.application_fee') = f.id"
        ) == project.query("SELECT count(*) FROM stripe.application_fees")
        refunds = {
            r["id"]: -r["amount"]
            for (raw,) in project.query("SELECT raw FROM stripe.application_fees WHERE amount_refunded > 0")
            for r in json.loads(raw)["refunds"]["data"]
        }
        given_back = project.query(
            "SELECT source, amount FROM stripe.balance_transactions WHERE type = 'application_fee_refund'"
        )
        assert dict(given_back) == refunds and len(refunds) == 3
        # credit notes: two voided, and their invoices no longer count them
        credited = project.query(
            "SELECT n.status, n.amount, CAST(json_extract(i.raw, '$.post_payment_credit_notes_amount') AS BIGINT) "
            "FROM stripe.credit_notes n JOIN stripe.invoices i ON i.id = n.invoice"
        )
        assert len(credited) == len(emu.objects("credit_notes")) > 2
        assert Counter(status for status, _, _ in credited) == {"issued": len(credited) - 2, "void": 2}
        assert all(shown == (0 if status == "void" else amount) for status, amount, shown in credited)
