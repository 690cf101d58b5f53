"""A load whose records hold every field its columns read takes them in one pass over the
records (`records.top_level_values`): the table and quarantine rows are the ones reading the
columns one at a time gives, every column and `raw` included, for every resource."""

from __future__ import annotations

import pytest

from stripe_assets.catalog import get_resource
from stripe_assets.ingest import records
from stripe_assets.ingest.columns import default_columns
from stripe_assets.ingest.validation import coercion
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets_emulator.generators import GENERATED
from stripe_assets_tests.ingest.test_load import load

# Every partition lands its valid records beside its quarantined ones.
_LENIENT = ValidationSettings(threshold_pct=100.0)
# The times of the load itself differ between two loads; every other column must not.
_LOAD_TIMES = ("_loaded_at", "_observed_at", "_quarantined_at")


def _rows(path, table: str) -> list[tuple]:
    from stripe_assets.ingest.warehouse import Warehouse

    with Warehouse(path).connect(read_only=True) as conn:
        names = [r[0] for r in conn.execute(f"DESCRIBE {table}").fetchall() if r[0] not in _LOAD_TIMES]
        quoted = ", ".join(f'"{n}"' for n in names)
        return conn.execute(f"SELECT {quoted} FROM {table} ORDER BY ALL").fetchall()


@pytest.fixture(scope="module")
def bad_emulator():
    from stripe_assets_emulator import EmulatorConfig, FaultConfig, start_emulator
    from stripe_assets_tests.conftest import EMULATOR_DAYS, EMULATOR_START

    config = EmulatorConfig(
        seed=5, start=EMULATOR_START, days=EMULATOR_DAYS, per_day=60, faults=FaultConfig(invalid_fraction=0.05)
    )
    with start_emulator(config) as emu:
        yield emu


@pytest.mark.parametrize("resource", GENERATED)
def test_a_load_in_one_pass_lands_the_rows_and_quarantine_of_the_column_by_column_reading(
    bad_emulator, tmp_path, monkeypatch, resource
):
    read = records.top_level_values
    passes: list[bool] = []

    def spied(*args):
        found = read(*args)
        passes.append(found is not None)
        return found

    one_pass = tmp_path / "one_pass.duckdb"
    with monkeypatch.context() as patch:
        patch.setattr(records, "top_level_values", spied)
        load(bad_emulator, one_pass, resource, "2026-10-03", "2026-10-04", settings=_LENIENT)
    # Stripe leaves some fields out rather than null (a refund's `failure_reason`): such parts
    # are read column by column.
    tops = {c.path[0] for c in default_columns(get_resource(resource))}
    if any(tops <= o.keys() for o in bad_emulator.objects(resource, include_hidden=False) if isinstance(o, dict)):
        assert any(passes), f"{resource}: no part was read in one pass"
    by_column = tmp_path / "by_column.duckdb"
    with monkeypatch.context() as patch:
        for module in (records, coercion):
            patch.setattr(module, "top_level_values", lambda *_: None)
        load(bad_emulator, by_column, resource, "2026-10-03", "2026-10-04", settings=_LENIENT)
    for table in (f"stripe.{resource}", f"stripe_quarantine.{resource}"):
        rows, reference = _rows(one_pass, table), _rows(by_column, table)
        for row, same in zip(rows, reference, strict=False):
            assert row == same, [(a, b) for a, b in zip(row, same, strict=True) if a != b]
        assert len(rows) == len(reference), table
    assert _rows(one_pass, f"stripe.{resource}"), f"{resource}: nothing loaded"
