"""The whole product over HTTP: several days of every declared asset (top-level and child lists,
taken from the catalog, so a new declaration is covered without a line here) load equal to the
emulator, fields and `raw`, child rows under the right parents; the emulator then moves on with
changes and deletions of every kind, and one more run of every asset leaves every table equal
again."""

from __future__ import annotations

import json
from datetime import date, timedelta

import dagster as dg
import pytest

from stripe_assets.catalog import RESOURCES, get_resource
from stripe_assets.catalog.child import child_of
from stripe_assets.ingest.columns import default_columns
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets_emulator import CHANGE_KINDS, EmulatorConfig, start_emulator
from stripe_assets_tests.conftest import UNPACED_API
from stripe_assets_tests.test_assets import materialize
from stripe_assets_tests.test_children import _expected, _table

START = date(2026, 10, 1)
DAYS = 3
TOP_LEVEL = [name for name, r in RESOURCES.items() if child_of(r) is None]
CHILDREN = [name for name, r in RESOURCES.items() if child_of(r) is not None]
CHANGES_PER_KIND = 3


def _day(n: int) -> str:
    return (START + timedelta(days=n)).isoformat()


@pytest.fixture
def live(monkeypatch, tmp_path):
    with start_emulator(EmulatorConfig(seed=7, start=START, days=DAYS, per_day=30)) as emu:
        monkeypatch.setenv("STRIPE_API_KEY", emu.api_key)
        monkeypatch.setenv("STRIPE_API_BASE", emu.url)
        monkeypatch.setenv("STRIPE_ASSETS_DUCKDB_PATH", str(tmp_path / "stripe.duckdb"))
        monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
        flows = tmp_path / "dataflows.yaml"  # every default dataflow
        flows.write_text(UNPACED_API)
        monkeypatch.setenv("STRIPE_ASSETS_DATAFLOWS", str(flows))
        yield emu


def _rows(tmp_path, name: str) -> list[tuple]:
    with Warehouse(tmp_path / "stripe.duckdb").connect(read_only=True) as conn:
        return conn.execute(f"SELECT id, raw, _deleted_at FROM {RESOURCES[name].table}").fetchall()


def _columns_follow_raw(tmp_path, name: str) -> None:
    """Each declared column holds what `raw` says at its path (a timestamp as its Unix time)."""
    checks = []
    for spec in default_columns(get_resource(name)):
        if spec.path[0] == "<parent>":
            continue
        at = "$." + ".".join(spec.path)
        value = f"json_extract_string(raw, '{at}')"
        if spec.type == "TIMESTAMPTZ":
            checks.append(f"{spec.name} IS DISTINCT FROM to_timestamp({value}::BIGINT)")
        elif spec.type == "JSON":
            checks.append(f"{spec.name}::VARCHAR IS DISTINCT FROM nullif(json_extract(raw, '{at}'), 'null')::VARCHAR")
        else:
            checks.append(f"{spec.name} IS DISTINCT FROM {value}::{spec.type}")
    counts = ", ".join(f"count(*) FILTER (WHERE {c})" for c in checks)
    with Warehouse(tmp_path / "stripe.duckdb").connect(read_only=True) as conn:
        found = conn.execute(f"SELECT {counts} FROM {RESOURCES[name].table} WHERE _deleted_at IS NULL").fetchall()[0]
    bad = {check.split(" ")[0]: n for check, n in zip(checks, found, strict=True) if n}
    assert not bad, (name, bad)


def _assert_every_table_equal(emu, tmp_path) -> None:
    for name in TOP_LEVEL:
        api = {o["id"]: o for o in emu.objects(name)}
        listed = {o["id"] for o in emu.objects(name, include_hidden=False)}
        rows = _rows(tmp_path, name)
        ids = [r[0] for r in rows]
        assert len(ids) == len(set(ids)) and listed <= set(ids), name  # every listed object, once
        for object_id, raw, deleted_at in rows:
            if deleted_at is None:
                assert json.loads(raw) == api[object_id], (name, object_id)
            else:  # deleted since it was loaded: Stripe shows a deleted stub, or lists it no more
                assert api.get(object_id, {"deleted": True}).get("deleted") or object_id not in listed, object_id
        _columns_follow_raw(tmp_path, name)
    for name in CHILDREN:
        expected = _expected(emu, name)
        table = _table(name, tmp_path)
        assert expected, f"{name}: the emulator lists none"
        assert {i: (p, o) for i, (p, o, d) in table.items() if d is None} == expected, name
        # what is no longer listed under its parent is kept, marked
        assert all(d is not None for i, (_, _, d) in table.items() if i not in expected), name
        _columns_follow_raw(tmp_path, name)


# Cross-references between tables that hold in Stripe's data: each query counts the rows that break one.
BROKEN = {
    "an intent's latest charge is of another intent": "SELECT count(*) FROM stripe.payment_intents p "
    "JOIN stripe.charges c ON c.id = p.latest_charge WHERE c.payment_intent != p.id",
    "an intent canceled but not in status canceled": "SELECT count(*) FROM stripe.payment_intents "
    "WHERE canceled_at IS NOT NULL AND status != 'canceled'",
    "a fraud warning actionable on a charge refunded or disputed, or not on one that is neither":
    "SELECT count(*) FROM stripe.early_fraud_warnings w JOIN stripe.charges c ON c.id = w.charge "
    "WHERE w.actionable = (c.refunded OR c.disputed)",
    **{
        f"a checkout session's {made} missing from its table": f"SELECT count(*) FROM stripe.checkout_sessions c "
        f"LEFT JOIN stripe.{made}s t ON t.id = c.{made} WHERE c.{made} IS NOT NULL AND t.id IS NULL"
        for made in ("payment_intent", "subscription", "setup_intent")
    },
    "a complete checkout session that made nothing": "SELECT count(*) FROM stripe.checkout_sessions "
    "WHERE status = 'complete' AND coalesce(payment_intent, subscription, setup_intent) IS NULL",
    "a session's lines not adding up to its amount": "SELECT count(*) FROM stripe.checkout_sessions s "
    "JOIN (SELECT checkout_session, sum(amount_total) AS total FROM stripe.checkout_session_line_items "
    "WHERE _deleted_at IS NULL GROUP BY ALL) l ON l.checkout_session = s.id WHERE l.total != s.amount_total",
    "a promotion code active on a coupon no longer valid": "SELECT count(*) FROM stripe.promotion_codes p "
    "JOIN stripe.coupons c ON c.id = p.coupon WHERE p.active AND (NOT c.valid OR c._deleted_at IS NOT NULL)",
    "a payout without its balance transaction": "SELECT count(*) FROM stripe.payouts p "
    "LEFT JOIN stripe.balance_transactions t ON t.source = p.id WHERE t.id IS NULL",
    "a fee whose charge does not name it": "SELECT count(*) FROM stripe.application_fees f "
    "JOIN stripe.charges c ON c.id = f.charge WHERE json_extract_string(c.raw, '$.application_fee') != f.id",
    "a credit note its invoice counts wrongly": "SELECT count(*) FROM stripe.credit_notes n JOIN stripe.invoices i "
    "ON i.id = n.invoice WHERE CAST(json_extract(i.raw, '$.post_payment_credit_notes_amount') AS BIGINT) "
    "< CASE WHEN n.status = 'void' THEN 0 ELSE n.amount END",
    "an invoice item outside the partition of its date": "SELECT count(*) FROM stripe.invoice_items "
    "WHERE strftime(created, '%Y-%m-%d') != _partition OR epoch(created) != CAST(raw->>'date' AS BIGINT)",
}


def _cross_references_hold(tmp_path) -> None:
    with Warehouse(tmp_path / "stripe.duckdb").connect(read_only=True) as conn:
        broken = {what: n for what, query in BROKEN.items() if (n := conn.execute(query).fetchall()[0][0])}
    assert not broken


def _load(instance, days: range) -> None:
    for n in days:  # a run per day: children start once their parents have loaded
        result = materialize(instance, partition_key=_day(n))
        assert result.success, _day(n)


@pytest.mark.slow  # every asset (or every child list) over several days: its module runs first
def test_every_asset_loads_equal_to_the_emulator_and_stays_equal_as_it_changes(live, tmp_path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        _load(instance, range(DAYS))
        _assert_every_table_equal(live, tmp_path)

        can = live.changeable()
        # Kinds that share their objects (a payout is paid or fails) take half of what can change.
        changes = {kind: min(CHANGES_PER_KIND, max(can[kind] // 2, 1 if can[kind] else 0)) for kind in CHANGE_KINDS}
        missing = [kind for kind, count in changes.items() if count == 0]
        assert not missing, f"no object can take these changes: {missing}"
        made = live.advance(days=1, changes=changes)
        assert made.changes == changes
        # Every deletion the emulator makes (Stripe deletes no invoice but a draft, no price in use).
        deleted = {n for n in TOP_LEVEL if set(RESOURCES[n].deletion_events) & set(made.event_types)}
        assert {"customers", "products", "coupons", "invoice_items"} <= deleted

        # The newest loaded day applies every change in every partition; the day the changes
        # happened on holds the objects they made (refunds, disputes, balance transactions).
        _load(instance, range(DAYS - 1, DAYS + 1))
    _assert_every_table_equal(live, tmp_path)
    _cross_references_hold(tmp_path)
    for name in deleted:
        assert any(r[2] is not None for r in _rows(tmp_path, name)), f"{name}: no row marked deleted"
