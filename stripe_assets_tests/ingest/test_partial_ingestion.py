"""Partial ingestion over real HTTP with the emulator's invalid-record injection."""

from __future__ import annotations

import pytest

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.client import StripeReader
from stripe_assets.ingest.columns import default_columns
from stripe_assets.ingest.load import load_partitions
from stripe_assets.ingest.load_options import LoadOptions
from stripe_assets.ingest.outcomes import Window
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets_tests.conftest import day_window

DAY = "2026-10-03"


def load(emu, path, resource="charges", **settings):
    return load_partitions(
        StripeReader(emu.api_key, emu.url), Warehouse(path), get_resource(resource), [Window(DAY, *day_window(DAY))],
        LoadOptions(
            columns=default_columns(get_resource(resource)), settings=ValidationSettings(**settings), run_id="run"
        ),
    )


def rows(path, sql) -> list[tuple]:
    with Warehouse(path).connect(read_only=True) as conn:
        return conn.execute(sql).fetchall()


def invalid_in_window(emu, resource="charges") -> dict:
    in_window = set(emu.listable_ids(resource, *day_window(DAY)))
    return {i: r for i, r in emu.invalid_records(resource).items() if i in in_window}


def test_below_the_threshold_valid_records_land_and_invalid_ones_are_quarantined_with_reasons(
    make_emulator, duckdb_path
):
    emu = make_emulator(
        per_day=200, days=4, invalid_fraction=0.03, invalid_kinds="wrong_type,missing_required,null_required"
    )
    report = load(emu, duckdb_path)
    invalid = invalid_in_window(emu)
    expected_valid = set(emu.listable_ids("charges", *day_window(DAY))) - set(invalid)
    assert invalid and not report.failures
    assert {r[0] for r in rows(duckdb_path, "SELECT id FROM stripe.charges")} == expected_valid
    quarantined = rows(duckdb_path, "SELECT id, column_name, reason, raw->>'$.id' FROM stripe_quarantine.charges")
    assert {q[0] for q in quarantined} == set(invalid)
    for id_, column, reason, raw_id in quarantined:
        truth = invalid[id_]
        assert column == truth.field and raw_id == id_
        words = {"wrong_type": "expected", "missing_required": "missing", "null_required": "null"}[truth.kind]
        assert words in reason


def test_above_the_threshold_the_partition_keeps_its_earlier_rows(make_emulator, duckdb_path):
    clean = make_emulator(per_day=100, days=4, seed=5)
    load(clean, duckdb_path)
    before = rows(duckdb_path, "SELECT * EXCLUDE (_loaded_at) FROM stripe.charges ORDER BY id")
    broken = make_emulator(per_day=100, days=4, seed=5, invalid_fraction=0.3, invalid_kinds="wrong_type")
    report = load(broken, duckdb_path)
    assert report.failures
    invalid = invalid_in_window(broken)
    assert report.failure_message == (
        f"charges {DAY}: {100 * len(invalid) / 100:.1f}% of 100 records invalid ({len(invalid)}), above the "
        f"5.0% threshold; top reasons: amount: expected an integer, got str ({len(invalid)})"
    )
    assert rows(duckdb_path, "SELECT * EXCLUDE (_loaded_at) FROM stripe.charges ORDER BY id") == before
    assert {r[0] for r in rows(duckdb_path, "SELECT DISTINCT id FROM stripe_quarantine.charges")} == set(invalid)


def test_reruns_replace_quarantine_rows_instead_of_piling_them_up(make_emulator, duckdb_path):
    emu = make_emulator(per_day=100, days=4, invalid_fraction=0.04)
    load(emu, duckdb_path)
    first = rows(duckdb_path, "SELECT id, column_name FROM stripe_quarantine.charges ORDER BY id")
    load(emu, duckdb_path)
    assert rows(duckdb_path, "SELECT id, column_name FROM stripe_quarantine.charges ORDER BY id") == first


def test_unknown_enum_values_are_drift_unless_strict(make_emulator, tmp_path):
    emu = make_emulator(per_day=100, days=4, invalid_fraction=0.05, invalid_kinds="unknown_enum")
    invalid = invalid_in_window(emu)
    lenient = load(emu, tmp_path / "lenient.duckdb")
    assert lenient.records_rejected == 0 and lenient.records_loaded == len(
        emu.listable_ids("charges", *day_window(DAY))
    )
    assert lenient.outcomes[0].result.drift.unknown_enum_values
    strict = load(emu, tmp_path / "strict.duckdb", strict_enums=True, threshold_pct=100)
    assert {f.id for f in strict.outcomes[0].result.failures} == set(invalid)
    assert {f.column for f in strict.outcomes[0].result.failures} == {r.field for r in invalid.values()}


@pytest.mark.parametrize(
    "settings, accepted",
    [
        (dict(threshold_pct=0), False),  # 0 %: any invalid record fails the partition
        (dict(threshold_pct=100), True),  # 100 %: everything valid loads whatever the rate
        (dict(threshold_pct=100, partial_ingestion=False), False),  # no partial ingestion: any error fails
    ],
)
def test_threshold_edges(make_emulator, tmp_path, settings, accepted):
    emu = make_emulator(per_day=100, days=4, invalid_fraction=0.5)
    report = load(emu, tmp_path / "w.duckdb", **settings)
    assert (not report.failures) is accepted
    loaded = rows(tmp_path / "w.duckdb", "SELECT count(*) FROM stripe.charges")[0][0]
    assert loaded == (report.outcomes[0].records_valid if accepted else 0)


def test_a_clean_partition_passes_at_zero_percent(emulator, duckdb_path):
    assert not load(emulator, duckdb_path, threshold_pct=0).failures
