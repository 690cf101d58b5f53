"""A Connect platform read in one dataflow: every connected account's objects, per account.

Runs in process against the emulator: 50 connected accounts (every 5th empty, one answering 403,
one deauthorizing the platform while the run reads it) over every resource, child lists included;
and every resource for a few accounts with the models and the reconciliation over them.
"""

from __future__ import annotations

from datetime import date

import dagster as dg
import pytest

from stripe_assets.catalog import RESOURCE_NAMES, get_resource
from stripe_assets.catalog.child import child_of
from stripe_assets.ingest.reconcile import ReportsClient, reconcile
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets.models import MODELS, build_model, run_checks
from stripe_assets_emulator import EmulatorConfig, start_emulator
from stripe_assets_emulator.config import ConnectConfig
from stripe_assets_tests.connect.platform import dataflows_text, expected, table_rows
from stripe_assets_tests.operations.harness import RANGE_END, RANGE_START
from stripe_assets_tests.test_assets import materialize, step_failure

START = date(2026, 10, 1)
DAY = START.isoformat()
ACCOUNTS = 50
EMPTY_EVERY = 5  # accounts 0, 5, 10, ... have no objects
FORBIDDEN = 7  # listed, but answers 403 until access is given back
DEAUTHORIZED = 12  # deauthorizes the platform while the run reads it
CHILD_LISTS = {name for name in RESOURCE_NAMES if child_of(get_resource(name)) is not None}


def _serve(tmp_path, monkeypatch, resources: list[str], connect: ConnectConfig):
    config = EmulatorConfig(seed=21, start=START, days=1, per_day=3, connect=connect)
    flows = tmp_path / "dataflows.yaml"
    flows.write_text(dataflows_text(resources, START))
    emu = start_emulator(config)
    monkeypatch.setenv("STRIPE_API_KEY", emu.api_key)
    monkeypatch.setenv("STRIPE_API_BASE", emu.url)
    monkeypatch.setenv("STRIPE_ASSETS_DUCKDB_PATH", str(tmp_path / "stripe.duckdb"))
    monkeypatch.setenv("STRIPE_ASSETS_DATAFLOWS", str(flows))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    return emu


@pytest.fixture
def platform(tmp_path, monkeypatch):
    connect = ConnectConfig(
        accounts=ACCOUNTS, per_day=1, empty_every=EMPTY_EVERY, forbidden=(FORBIDDEN,),
        deauthorize_after={DEAUTHORIZED: 3},
    )  # fmt: skip
    with _serve(tmp_path, monkeypatch, list(RESOURCE_NAMES), connect) as emu:
        yield emu


@pytest.fixture
def few(tmp_path, monkeypatch):
    connect = ConnectConfig(accounts=3, per_day=2, empty_every=3)
    with _serve(tmp_path, monkeypatch, list(RESOURCE_NAMES), connect) as emu:
        yield emu


def _warnings(instance, run_id: str) -> str:
    return "\n".join(e.user_message for e in instance.all_logs(run_id) if e.level >= 30)


@pytest.mark.slow  # two runs of every resource over 51 accounts: 3 to 5 minutes on 2 cores
def test_fifty_accounts_land_and_the_failing_one_is_named_and_read_again(platform, tmp_path):
    emu = platform
    accounts = emu.connected_accounts
    forbidden, deauthorized = accounts[FORBIDDEN], accounts[DEAUTHORIZED]
    warehouse = tmp_path / "stripe.duckdb"
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        first = materialize(instance, partition_key=DAY)
        assert not first.success
        message = step_failure(first)
        assert forbidden in message and "not read" in message and "the next run reads them again" in message
        assert forbidden in _warnings(instance, first.run_id)
        failures = [e for e in first.all_events if e.event_type_value == "STEP_FAILURE"]
        named = [e.step_failure_data.user_failure_data.metadata["accounts_failed"].value for e in failures]
        # Each top-level list names it (a child list has none of its parents to read yet).
        assert len(named) >= len(RESOURCE_NAMES) - len(CHILD_LISTS)
        assert all(forbidden in n and "deauthorized the platform" in n[forbidden] for n in named if forbidden in n)
        assert sum(forbidden in n for n in named) == len(RESOURCE_NAMES) - len(CHILD_LISTS)
        for resource in RESOURCE_NAMES:
            found = table_rows(warehouse, resource)
            want = set()
            for account in [emu.platform_account, *accounts]:
                if account not in (forbidden, deauthorized):
                    want |= expected(emu, resource, account, START)
            assert {r for r in found if r[0] != deauthorized} == want, resource
            assert not {r for r in found if r[0] == forbidden}, resource
            # Empty accounts land nothing; the others something of the top-level lists.
            landed = {r[0] for r in found}
            assert not landed & {a for i, a in enumerate(accounts) if i % EMPTY_EVERY == 0}, resource
        assert emu.account_access()["accounts"][DEAUTHORIZED]["deauthorized"] is not None

        emu.forbid(forbidden, False)  # access given back: the next run reads it from its history start
        second = materialize(instance, partition_key=DAY)
        assert second.success, step_failure(second)
        for resource in RESOURCE_NAMES:
            found = table_rows(warehouse, resource)
            assert {r for r in found if r[0] == forbidden} == expected(emu, resource, forbidden, START), resource
        with Warehouse(warehouse).connect(read_only=True) as conn:
            marks = dict(conn.execute("SELECT id, deauthorized_at FROM stripe.accounts").fetchall())
        # Listed by the first run (before it left), marked, not dropped, by the second.
        assert set(marks) == set(accounts)
        assert [a for a, at in marks.items() if at is not None] == [deauthorized]


@pytest.mark.slow  # every asset and model over four accounts: about a minute
def test_every_resource_and_child_list_of_every_account_equals_the_emulator(few, tmp_path):
    emu = few
    owners = [emu.platform_account, *emu.connected_accounts]
    warehouse = tmp_path / "stripe.duckdb"
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        result = materialize(instance, partition_key=DAY)
        assert result.success, step_failure(result)
    for resource in RESOURCE_NAMES:
        want = set().union(*(expected(emu, resource, account, START) for account in owners))
        assert table_rows(warehouse, resource) == want, resource
    # A connected account's objects, children included, are its own: the empty one has none.
    empty, busy = emu.connected_accounts[0], emu.connected_accounts[1]
    with Warehouse(warehouse).connect() as conn:
        lines = dict(conn.execute("SELECT account_id, count(*) FROM stripe.invoice_line_items GROUP BY 1").fetchall())
        assert empty not in lines and lines.get(busy) and lines.get(emu.platform_account)
        # The models over several accounts: their checks hold, each account's money apart.
        for model in MODELS:
            build_model(conn, model)
            broken = [o.check.name for o in run_checks(conn, model) if not o.passed and o.check.severity != "WARN"]
            assert not broken, model.name
        daily = "SELECT account_id, sum(balance_transactions) FROM stripe_models.daily_overview GROUP BY 1"
        per_account = dict(conn.execute(daily).fetchall())
        counted = conn.execute(
            "SELECT account_id, count(*) FROM stripe.balance_transactions WHERE _deleted_at IS NULL GROUP BY 1"
        ).fetchall()
    assert per_account == dict(counted) and {emu.platform_account, busy} <= set(per_account)
    # Stripe's reports are the platform's own balance: its own transactions match them.
    report = reconcile(ReportsClient(emu.api_key, emu.url), Warehouse(warehouse))
    assert report.passed, report.description
    theirs = sum(n for account, n in per_account.items() if account != emu.platform_account)
    assert f"{theirs} balance transactions of connected accounts not compared" in report.description


def test_a_connected_accounts_objects_land_in_the_partition_of_their_declared_creation_time(tmp_path, monkeypatch):
    """Invoice items are dated by `date`, not `created`: over two days, each connected account's
    item lands in its own day's partition, as the platform's do."""
    config = EmulatorConfig(
        seed=21, start=START, days=2, per_day=6, connect=ConnectConfig(accounts=2, per_day=3, empty_every=None)
    )
    flows = tmp_path / "dataflows.yaml"
    flows.write_text(dataflows_text(["customers", "prices", "invoice_items"], START))
    with start_emulator(config) as emu:
        monkeypatch.setenv("STRIPE_API_KEY", emu.api_key)
        monkeypatch.setenv("STRIPE_API_BASE", emu.url)
        monkeypatch.setenv("STRIPE_ASSETS_DUCKDB_PATH", str(tmp_path / "stripe.duckdb"))
        monkeypatch.setenv("STRIPE_ASSETS_DATAFLOWS", str(flows))
        monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
        with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
            result = materialize(
                instance, selection=["stripe/invoice_items"], tags={RANGE_START: DAY, RANGE_END: "2026-10-02"}
            )
            assert result.success, step_failure(result)
        with Warehouse(tmp_path / "stripe.duckdb").connect(read_only=True) as conn:
            placed = conn.execute(
                "SELECT account_id, _partition, strftime(timezone('UTC', created), '%Y-%m-%d') "
                "FROM stripe.invoice_items"
            ).fetchall()
        connected = {(p, day) for account, p, day in placed if account in emu.connected_accounts}
        assert {day for _, day in connected} == {"2026-10-01", "2026-10-02"}
        assert all(partition == day for _, partition, day in placed), placed
