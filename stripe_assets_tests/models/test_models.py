"""The models over a complete load of the emulator, each equal to a reference computed in plain
Python from the emulator's objects; their checks, lineage, documentation and refresh."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import dagster as dg
import pytest

from stripe_assets.ingest.reconcile import ReportsClient, reconcile
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets.models import MODELS, get_model, run_checks
from stripe_assets_tests.models import reference
from stripe_assets_tests.models.conftest import build_models, dataflows_text, definitions, load_everything
from stripe_assets_tests.operations.harness import make_project


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, Decimal) or (isinstance(value, int) and not isinstance(value, bool)):
        return int(value)
    return value


def rows(project, model: str, *, account: bool = False) -> list[dict[str, Any]]:
    with project.warehouse.connect(read_only=True) as conn:
        cursor = conn.execute(f"SELECT * FROM stripe_models.{model}")
        names = [d[0] for d in cursor.description]
        found = [{n: _plain(v) for n, v in zip(names, row, strict=True)} for row in cursor.fetchall()]
    if account:
        return found
    # Every row is the platform's own (one account): its id, then the reference's columns.
    accounts = {r.pop("account_id") for r in found}
    assert len(accounts) <= 1 and all(str(a).startswith("acct_") for a in accounts), accounts
    return found


@pytest.fixture(scope="module")
def objects(account):
    return reference.objects(account)


def test_every_model_was_built_and_its_checks_passed(loaded):
    evaluations = loaded.models_result.get_asset_check_evaluations()
    assert {e.asset_key.path[-1] for e in evaluations} == {m.name for m in MODELS}
    # The payouts_explained finding is about the account (WARN), the others about the models.
    failed = [(e.asset_key.path[-1], e.check_name) for e in evaluations if not e.passed]
    assert set(failed) <= {("payout_reconciliation", "payouts_explained")}
    for model in MODELS:
        [mat] = loaded.models_result.asset_materializations_for_node(f"stripe_models__{model.name}")
        assert mat.metadata["dagster/row_count"].value == len(rows(loaded, model.name)) > 0
        # The UI shows each column's type as the built table has it, not Dagster's default "string".
        with loaded.warehouse.connect(read_only=True) as conn:
            described = {n: t for n, t, *_ in conn.execute(f"DESCRIBE stripe_models.{model.name}").fetchall()}
        shown = {c.name: c.type for c in mat.metadata["dagster/column_schema"].value.columns}
        assert shown == {name: described[name] for name in model.columns}


def test_daily_overview_equals_the_reference(loaded, objects):
    expected = reference.daily_overview(objects)
    found = {(r.pop("day"), r.pop("currency")): r for r in rows(loaded, "daily_overview")}
    assert found == expected


def test_customer_overview_equals_the_reference(loaded, objects):
    expected = reference.customer_overview(objects)
    found = {(r.pop("customer_id"), r.pop("currency")): r for r in rows(loaded, "customer_overview")}
    assert found == expected
    assert any(r["amount_paid"] for r in found.values()) and any(r["active_subscriptions"] for r in found.values())


def test_subscription_item_mrr_equals_the_reference_across_a_month_end(loaded, objects):
    [(as_of,)] = loaded.query("SELECT max(_observed_at) FROM stripe.subscriptions")
    expected = reference.subscription_item_mrr(objects, int(as_of.timestamp()))
    found = {}
    for r in rows(loaded, "subscription_item_mrr"):
        for movement in ("new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr", "reactivation_mrr"):
            value = r.pop(movement)
            assert value == (r["mrr_change"] if movement.startswith(r["movement"][:5]) else 0), (movement, r)
        found[(r.pop("month"), r.pop("subscription_item_id"))] = r
    assert found == expected
    months = {month for month, _ in found}
    assert months == {date(2026, 9, 1), date(2026, 10, 1)}
    assert {r["movement"] for r in found.values()} >= {"new", "churn", "unchanged"}


def test_balance_transactions_enriched_equals_the_reference(loaded, objects):
    expected = reference.balance_transactions_enriched(objects)
    found = {r.pop("balance_transaction_id"): r for r in rows(loaded, "balance_transactions_enriched")}
    assert found == expected
    assert any(r["payout_id"] and r["customer_id"] for r in found.values())


def test_payout_reconciliation_equals_the_reference(loaded, objects):
    expected = reference.payout_reconciliation(objects, reference.balance_transactions_enriched(objects))
    found = {r.pop("payout_id"): r for r in rows(loaded, "payout_reconciliation")}
    assert found == expected


@pytest.mark.parametrize(
    ("model", "check", "breaks"),
    [
        ("subscription_item_mrr", "movements_sum_to_the_change_in_mrr",
         "UPDATE stripe_models.subscription_item_mrr SET new_mrr = new_mrr + 1 "
         "WHERE subscription_item_id = (SELECT min(subscription_item_id) FROM stripe_models.subscription_item_mrr)"),
        ("subscription_item_mrr", "previous_mrr_is_last_months_mrr",
         "DELETE FROM stripe_models.subscription_item_mrr WHERE month = DATE '2026-09-01' AND "
         "subscription_item_id = (SELECT min(subscription_item_id) FROM stripe_models.subscription_item_mrr "
         "WHERE month = DATE '2026-09-01' AND mrr > 0)"),
        ("balance_transactions_enriched", "rows_equal_base_rows",
         "INSERT INTO stripe_models.balance_transactions_enriched "
         "SELECT * FROM stripe_models.balance_transactions_enriched LIMIT 1"),
        ("balance_transactions_enriched", "amounts_equal_base_rows",
         "UPDATE stripe_models.balance_transactions_enriched SET net = net + 1 WHERE balance_transaction_id = "
         "(SELECT min(balance_transaction_id) FROM stripe_models.balance_transactions_enriched)"),
        ("daily_overview", "net_is_gross_less_refunds_disputes_and_fees",
         "UPDATE stripe_models.daily_overview SET fees = fees + 1 WHERE day = DATE '2026-09-28'"),
        ("customer_overview", "paid_equals_the_charges",
         "DELETE FROM stripe_models.customer_overview WHERE amount_paid > 0 AND customer_id = "
         "(SELECT min(customer_id) FROM stripe_models.customer_overview WHERE amount_paid > 0)"),
        ("payout_reconciliation", "rows_equal_base_rows",
         "DELETE FROM stripe_models.payout_reconciliation WHERE payout_id = "
         "(SELECT min(payout_id) FROM stripe_models.payout_reconciliation)"),
    ],
)
def test_a_wrong_model_fails_its_check(loaded, tmp_path, model, check, breaks):
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(loaded.duckdb.read_bytes())
    with Warehouse(copy).connect() as conn:
        assert all(o.passed for o in run_checks(conn, get_model(model)) if o.check.name == check)
        conn.execute(breaks)
        [outcome] = [o for o in run_checks(conn, get_model(model)) if o.check.name == check]
    assert not outcome.passed and outcome.violations > 0 and outcome.sample


def test_lineage_from_the_stripe_assets_to_the_models(loaded, account):
    graph = definitions(loaded, account).resolve_asset_graph()
    parents = {m.name: {"/".join(k.path) for k in graph.get(dg.AssetKey(["stripe_models", m.name])).parent_keys}
               for m in MODELS}
    assert parents["subscription_item_mrr"] == {"stripe/subscriptions", "stripe/subscription_items"}
    assert parents["daily_overview"] == {"stripe/balance_transactions", "stripe/charges"}
    assert parents["payout_reconciliation"] == {"stripe/payouts", "stripe_models/balance_transactions_enriched"}
    assert "stripe/disputes" in parents["balance_transactions_enriched"]
    for model in MODELS:
        node = graph.get(dg.AssetKey(["stripe_models", model.name]))
        assert node.group_name == "stripe_models"
        described = {c.name: c.description for c in node.metadata["dagster/column_schema"].columns}
        assert list(described) == list(rows(loaded, model.name, account=True)[0]) and all(described.values())
        assert node.automation_condition is not None


def test_a_load_asks_for_the_models_and_the_reconciliation(account, tmp_path, monkeypatch):
    """After a load, the automation conditions request every model and the reconciliation check."""
    project = make_project(tmp_path / "project", account)
    project.dataflows.write_text(dataflows_text())
    monkeypatch.setenv("DAGSTER_HOME", str(project.dagster_home))
    defs = definitions(project, account)
    with project.instance() as instance:
        before = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        assert before.total_requested == 0  # nothing loaded: nothing to refresh
        assert load_everything(project, account).success
        after = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=before.cursor)
    requested = {str(r.key) for r in after.results if r.true_subset.size}
    assert {f"AssetKey(['stripe_models', '{m.name}'])" for m in MODELS} <= requested
    assert any("reconciles_with_stripe" in key for key in requested)


def test_the_models_and_the_reconciliation_run_on_the_lake(account, objects, tmp_path, monkeypatch):
    project = make_project(tmp_path / "project", account)
    project.dataflows.write_text(dataflows_text())
    project.lake, project.lake_data = f"ducklake:{tmp_path / 'lake' / 'stripe.ducklake'}", tmp_path / "lake" / "data"
    for name, value in project.env.items():
        monkeypatch.setenv(name, value)
    assert load_everything(project, account).success
    built = build_models(project, account)
    assert built.success
    assert all(e.passed for e in built.get_asset_check_evaluations() if e.check_name != "payouts_explained")
    found = {(r.pop("day"), r.pop("currency")): r for r in rows(project, "daily_overview")}
    assert found == reference.daily_overview(objects)
    [(as_of,)] = project.query("SELECT max(_observed_at) FROM stripe.subscriptions")
    mrr = {(r["month"], r["subscription_item_id"]): r["mrr"] for r in rows(project, "subscription_item_mrr")}
    expected = reference.subscription_item_mrr(objects, int(as_of.timestamp()))
    assert mrr == {key: row["mrr"] for key, row in expected.items()}
    report = reconcile(ReportsClient(account.api_key, account.url), project.warehouse)
    assert report.passed and report.complete_history, report.description
