"""`account_id` on a warehouse loaded before accounts were tracked, and loads of one account
next to another's in the same windows."""

from __future__ import annotations

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.client import StripeReader
from stripe_assets.ingest.columns import default_columns
from stripe_assets.ingest.load import load_partitions
from stripe_assets.ingest.load_options import LoadOptions
from stripe_assets.ingest.outcomes import Window
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets_tests.conftest import day_window

PLATFORM = "acct_1Platform0000000"


def _load(emu, path, day: str, account: str | None = None) -> None:
    reader = StripeReader(emu.api_key, emu.url)
    load_partitions(
        reader, Warehouse(path), get_resource("charges"), [Window(day, *day_window(day))],
        LoadOptions(
            columns=default_columns(get_resource("charges")), settings=ValidationSettings(), run_id=f"run-{day}"
        ),
        account=account, platform=PLATFORM if account else None,
    )  # fmt: skip


def _rows(path) -> dict[str, str | None]:
    with Warehouse(path).connect(read_only=True) as conn:
        return dict(conn.execute("SELECT id, account_id FROM stripe.charges").fetchall())


def test_rows_loaded_before_accounts_become_the_platforms_and_none_is_lost(emulator, duckdb_path):
    _load(emulator, duckdb_path, "2026-10-02")
    with Warehouse(duckdb_path).connect() as conn:  # a table from before `account_id` existed
        for table in ("stripe.charges", "stripe_quarantine.charges", "stripe_history.charges"):
            conn.execute(f"ALTER TABLE {table} DROP COLUMN account_id")
        before = {row[0] for row in conn.execute("SELECT id FROM stripe.charges").fetchall()}
    _load(emulator, duckdb_path, "2026-10-03", account=PLATFORM)
    rows = _rows(duckdb_path)
    expected = set(emulator.listable_ids("charges", *day_window("2026-10-02")))
    expected |= set(emulator.listable_ids("charges", *day_window("2026-10-03")))
    assert before and before < set(rows) and set(rows) == expected
    assert set(rows.values()) == {PLATFORM}


def test_an_accounts_load_replaces_its_own_rows_of_the_window_only(emulator, duckdb_path):
    _load(emulator, duckdb_path, "2026-10-02", account=PLATFORM)
    with Warehouse(duckdb_path).connect() as conn:  # another account's object in the same window
        conn.execute(
            "INSERT INTO stripe.charges BY NAME SELECT * REPLACE ('ch_other' AS id, 'acct_1Other' AS account_id) "
            "FROM stripe.charges LIMIT 1"
        )
    _load(emulator, duckdb_path, "2026-10-02", account=PLATFORM)  # reloaded
    rows = _rows(duckdb_path)
    assert rows["ch_other"] == "acct_1Other"
    assert len(rows) == len(emulator.listable_ids("charges", *day_window("2026-10-02"))) + 1
