"""`reconciles_with_stripe` over the emulator: a complete load matches Stripe's balance summary
report and balance; a missing or altered balance transaction fails naming the currency and day;
partial history is said, never passed off as a match with the balance."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from stripe_assets.cli import main
from stripe_assets.dagster.resources import WarehouseResource
from stripe_assets.ingest.reconcile import ReportsClient, reconcile
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets_tests.models.conftest import definitions, resources

CHECK = dg.AssetCheckKey(dg.AssetKey(["stripe", "balance_transactions"]), "reconciles_with_stripe")


def run_check(project, account, **resource_overrides) -> dg.AssetCheckEvaluation:
    """The check alone, as the UI's "Execute" on the Checks tab runs it."""
    defs = definitions(project, account)
    with project.instance() as instance:
        result = dg.materialize(
            [*(a for a in defs.assets or () if isinstance(a, dg.AssetsDefinition)), *(defs.asset_checks or ())],
            instance=instance,
            selection=dg.AssetSelection.checks(CHECK),
            resources={**resources(project, account), **resource_overrides},
            raise_on_error=False,
        )
    assert result.success
    [evaluation] = result.get_asset_check_evaluations()
    return evaluation


@pytest.fixture
def copy(loaded, tmp_path) -> Warehouse:
    """The loaded warehouse, copied so a test can break it."""
    path = tmp_path / "copy.duckdb"
    path.write_bytes(loaded.duckdb.read_bytes())
    return Warehouse(path)


def _reconcile(account, warehouse: Warehouse):
    return reconcile(ReportsClient(account.api_key, account.url), warehouse)


def test_after_a_complete_load_the_check_passes_against_the_report_and_the_balance(loaded, account, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(loaded.dagster_home))
    evaluation = run_check(loaded, account)
    assert evaluation.passed, evaluation.description
    assert evaluation.description == "matches Stripe's balance summary 2026-09-27..2026-10-02 and /v1/balance"
    assert evaluation.metadata["complete_history"].value is True
    currencies = evaluation.metadata["currencies"].value
    assert set(currencies) == {"aud", "cad", "eur", "gbp", "jpy", "usd"}
    for figures in currencies.values():
        assert figures["stripe_activity"] == figures["warehouse_activity"]
        assert figures["stripe_payouts"] == figures["warehouse_payouts"]
        assert figures["stripe_balance"] == figures["warehouse_net"]


def test_a_removed_balance_transaction_fails_naming_the_currency_and_the_day(loaded, account, copy, monkeypatch):
    with copy.connect() as conn:
        [(txn, net)] = conn.execute(
            "SELECT id, net FROM stripe.balance_transactions WHERE currency = 'eur' AND type = 'charge' "
            "AND created >= '2026-09-29' AND created < '2026-09-30' ORDER BY id LIMIT 1"
        ).fetchall()
        conn.execute("DELETE FROM stripe.balance_transactions WHERE id = ?", [txn])
    monkeypatch.setenv("DAGSTER_HOME", str(loaded.dagster_home))
    evaluation = run_check(loaded, account, stripe_warehouse=WarehouseResource(duckdb_path=str(copy.path)))
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    description = evaluation.description or ""
    assert "eur: activity" in description and "on 2026-09-29" in description
    differences = evaluation.metadata["differences"].value
    activity = [d for d in differences if d["what"] == "activity"]
    assert activity == [
        {"currency": "eur", "what": "activity", "days": ["2026-09-29"],
         "expected": activity[0]["expected"], "found": activity[0]["found"]}
    ]
    missing = round((float(activity[0]["expected"]) - float(activity[0]["found"])) * 100)
    assert missing == net
    # The balance differs too: the history is otherwise complete.
    assert [d["currency"] for d in differences if d["what"] == "balance"] == ["eur"]


def test_an_altered_balance_transaction_fails_naming_the_currency_and_the_day(account, copy):
    with copy.connect() as conn:
        conn.execute(
            "UPDATE stripe.balance_transactions SET net = net + 7 WHERE id = (SELECT min(id) FROM "
            "stripe.balance_transactions WHERE currency = 'usd' AND reporting_category = 'payout' "
            "AND created >= '2026-10-01' AND created < '2026-10-02')"
        )
    report = _reconcile(account, copy)
    assert not report.passed
    [payouts, balance] = report.differences
    assert (payouts.currency, payouts.what, payouts.days, payouts.found - payouts.expected) == (
        "usd", "payouts", ["2026-10-01"], 7
    )
    assert (balance.currency, balance.what, balance.found - balance.expected) == ("usd", "balance", 7)
    assert "usd: payouts Stripe" in report.description and "on 2026-10-01" in report.description


def test_partial_history_is_said_and_not_compared_with_the_balance(account, copy):
    with copy.connect() as conn:
        conn.execute("DELETE FROM stripe.balance_transactions WHERE created < '2026-09-28'")
        conn.execute(
            "DELETE FROM stripe_meta.loads WHERE resource = 'balance_transactions' AND partition = '2026-09-27'"
        )
    report = _reconcile(account, copy)
    assert report.passed  # every loaded day matches the report ...
    assert not report.complete_history  # ... but the balance before them is not loaded
    assert "partial history" in report.description
    assert "Stripe's starting balance on 2026-09-28 is not zero" in " ".join(report.metadata["notes"])
    assert all("stripe_balance" not in figures for figures in report.metadata["currencies"].values())


def test_a_gap_in_the_loads_is_said(account, copy):
    with copy.connect() as conn:
        conn.execute("DELETE FROM stripe.balance_transactions WHERE created >= '2026-09-30' AND created < '2026-10-01'")
        conn.execute(
            "DELETE FROM stripe_meta.loads WHERE resource = 'balance_transactions' AND partition = '2026-09-30'"
        )
    report = _reconcile(account, copy)
    assert report.passed and not report.complete_history
    assert "partial history: no loads for 2026-09-30..2026-09-30" in report.metadata["notes"]


def test_the_command_says_the_same_and_exits_1_on_a_difference(loaded, account, copy, monkeypatch, capsys):
    for name, value in loaded.env.items():
        monkeypatch.setenv(name, value)
    assert main(["reconcile"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("matches Stripe's balance summary 2026-09-27..2026-10-02 and /v1/balance")
    assert "stripe_activity" in out and "usd" in out
    with copy.connect() as conn:
        conn.execute(
            "DELETE FROM stripe.balance_transactions WHERE id = (SELECT max(id) FROM stripe.balance_transactions "
            "WHERE currency = 'gbp' AND created >= '2026-09-28' AND created < '2026-09-29')"
        )
    monkeypatch.setenv("STRIPE_ASSETS_DUCKDB_PATH", str(copy.path))
    assert main(["reconcile", "--json"]) == 1
    found = json.loads(capsys.readouterr().out)
    assert found["passed"] is False
    assert [d["days"] for d in found["differences"] if d["what"] != "balance"] == [["2026-09-28"]]


def test_between_loads_the_newest_hours_are_read_from_the_api_for_the_balance(account, copy):
    """Today's partition is loaded once the day ends: the balance is still compared before that."""
    with copy.connect() as conn:
        [(newest,)] = conn.execute(
            "SELECT count(*) FROM stripe.balance_transactions WHERE created >= '2026-10-02'"
        ).fetchall()
        conn.execute("DELETE FROM stripe.balance_transactions WHERE created >= '2026-10-02'")
        conn.execute(
            "DELETE FROM stripe_meta.loads WHERE resource = 'balance_transactions' AND partition = '2026-10-02'"
        )
    report = _reconcile(account, copy)
    assert report.passed and report.complete_history, report.description
    assert f"{newest} balance transactions created since 2026-10-02 (not loaded yet)" in " ".join(
        report.metadata["notes"]
    )
    assert report.description == "matches Stripe's balance summary 2026-09-27..2026-10-01 and /v1/balance"


def test_before_any_load_it_says_there_is_nothing_to_reconcile_as_a_warning(account, tmp_path):
    empty = Warehouse(tmp_path / "empty.duckdb")
    with empty.connect():
        pass
    report = _reconcile(account, empty)
    assert (report.passed, report.severity) == (False, "WARN")
    assert report.description == "no balance transactions loaded yet: nothing to reconcile"
