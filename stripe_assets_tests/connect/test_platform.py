"""A Connect platform read in one dataflow: every connected account's objects, per account."""

from __future__ import annotations

from datetime import UTC, date, datetime

import dagster as dg
import pytest

from stripe_assets.catalog import RESOURCE_NAMES, get_resource
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets_emulator import EmulatorConfig, start_emulator
from stripe_assets_emulator.config import ConnectConfig
from stripe_assets_tests.test_assets import materialize, step_failure

START = date(2026, 10, 1)
DAYS = 2
ACCOUNTS = 50
FORBIDDEN = 7  # listed, but answers 403 until access is given back
DEAUTHORIZED = 12  # deauthorizes the platform while the run reads it


def _dataflows(accounts: str) -> str:
    flows = "\n".join(
        f"  - {{name: stripe_{r}, resource: {r}, history_start: '{START}T00:00:00Z', "
        f"start_time: '{START}T00:10:00Z'}}"
        for r in RESOURCE_NAMES
    )
    return f"api:\n  accounts: {accounts}\ndataflows:\n{flows}\n"


@pytest.fixture
def platform(tmp_path, monkeypatch):
    config = EmulatorConfig(
        seed=21,
        start=START,
        days=DAYS,
        per_day=3,
        connect=ConnectConfig(
            accounts=ACCOUNTS, per_day=1, empty_every=5, forbidden=(FORBIDDEN,), deauthorize_after={DEAUTHORIZED: 6}
        ),
    )
    flows = tmp_path / "dataflows.yaml"
    flows.write_text(_dataflows("all"))
    with start_emulator(config) as emu:
        monkeypatch.setenv("STRIPE_API_KEY", emu.api_key)
        monkeypatch.setenv("STRIPE_API_BASE", emu.url)
        monkeypatch.setenv("STRIPE_ASSETS_DUCKDB_PATH", str(tmp_path / "stripe.duckdb"))
        monkeypatch.setenv("STRIPE_ASSETS_DATAFLOWS", str(flows))
        monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
        yield emu


def _rows(path, resource: str) -> set[tuple[str, str]]:
    with Warehouse(path).connect(read_only=True) as conn:
        return set(conn.execute(f"SELECT account_id, id FROM {get_resource(resource).table}").fetchall())


def _expected(emu, resource: str, account: str, since: date = START) -> set[tuple[str, str]]:
    window = (datetime(since.year, since.month, since.day, tzinfo=UTC), emu.now)
    return {(account, i) for i in emu.listable_ids(resource, *window, account=account)}


@pytest.mark.slow  # two runs of 14 assets over 51 accounts: minutes on a loaded 2-core machine
def test_every_account_lands_and_the_failing_one_is_named_and_read_again(platform, tmp_path):
    emu = platform
    accounts = emu.connected_accounts
    forbidden, deauthorized = accounts[FORBIDDEN], accounts[DEAUTHORIZED]
    last = f"{START.isoformat()[:8]}{START.day + DAYS - 1:02d}"
    with dg.instance_for_test() as instance:
        first = materialize(instance, partition_key=last)
        assert not first.success
        message = step_failure(first)
        assert forbidden in message and "not read" in message and "the next run reads them again" in message
        warehouse = tmp_path / "stripe.duckdb"
        for resource in RESOURCE_NAMES:
            rows = _rows(warehouse, resource)
            # The key's own account: the run's partition; a connected account read the first
            # time: from the history start.
            want = _expected(emu, resource, emu.platform_account, since=date.fromisoformat(last))
            for index, account in enumerate(accounts):
                if index not in (FORBIDDEN, DEAUTHORIZED):
                    want |= _expected(emu, resource, account)
            assert {r for r in rows if r[0] != deauthorized} == want, resource
            assert not {r for r in rows if r[0] == forbidden}
        assert emu.account_access()["accounts"][DEAUTHORIZED]["deauthorized"] is not None

        emu.forbid(forbidden, False)  # access given back: the next run reads it from its history start
        second = materialize(instance, partition_key=last)
        assert second.success, step_failure(second)
        kept = 0  # what the deauthorized account landed before it left stays
        for resource in RESOURCE_NAMES:
            rows = _rows(warehouse, resource)
            assert {r for r in rows if r[0] == forbidden} == _expected(emu, resource, forbidden), resource
            kept += len({r for r in rows if r[0] == deauthorized})
        assert kept
        with Warehouse(warehouse).connect(read_only=True) as conn:
            marks = dict(conn.execute("SELECT id, deauthorized_at FROM stripe.accounts").fetchall())
        # Listed by the first run (before it left), marked, not dropped, by the second.
        assert set(marks) == set(accounts)
        assert [a for a, at in marks.items() if at is not None] == [deauthorized]
