"""A child load of many windows: written together, each window replacing its own rows, and what
a window before a failure read still lands."""

import pytest

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.children.load import KEPT_RECORDS, load_children
from stripe_assets.ingest.children.read import ParentNotLoadedError
from stripe_assets.ingest.client import StripeReader
from stripe_assets.ingest.columns import default_columns
from stripe_assets.ingest.load_options import LoadOptions
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets_tests.ingest.test_load import load, windows

DAYS = ("2026-10-01", "2026-10-02", "2026-10-03")


def _lines(emu, path, *days, run_id="c"):
    spec = get_resource("invoice_line_items")
    return load_children(
        StripeReader(emu.api_key, emu.url), Warehouse(path), spec, windows(*days),
        LoadOptions(columns=default_columns(spec), settings=ValidationSettings(), run_id=run_id),
    )  # fmt: skip


def _by_day(path) -> dict[str, int]:
    with Warehouse(path).connect(read_only=True) as conn:
        rows = conn.execute(
            "SELECT _partition, count(*) FROM stripe.invoice_line_items WHERE _deleted_at IS NULL GROUP BY 1"
        ).fetchall()
    return dict(rows)


def test_windows_written_together_keep_their_own_rows_and_release_their_children(make_emulator, tmp_path):
    emu = make_emulator(per_day=40, days=3)
    path = tmp_path / "w.duckdb"
    load(emu, path, "invoices", *DAYS)
    report = _lines(emu, path, *DAYS)
    counts = _by_day(path)
    assert [o.window.key for o in report.outcomes] == list(DAYS)
    assert counts == {o.window.key: o.records_loaded for o in report.outcomes}
    assert all(n > KEPT_RECORDS for n in counts.values())
    # The report keeps a preview of each window's children, not all of them.
    assert all(len(o.result.valid) == KEPT_RECORDS and not o.result.invalid for o in report.outcomes)
    # One day read again replaces that day's rows only.
    again = _lines(emu, path, DAYS[1], run_id="c2")
    assert again.records_loaded == counts[DAYS[1]]
    assert _by_day(path) == counts


def test_a_window_whose_parents_are_not_loaded_fails_after_the_windows_before_it_landed(make_emulator, tmp_path):
    emu = make_emulator(per_day=40, days=3)
    path = tmp_path / "w.duckdb"
    load(emu, path, "invoices", *DAYS[:2])
    with pytest.raises(ParentNotLoadedError, match="partition 2026-10-03 of invoices is not loaded"):
        _lines(emu, path, *DAYS)
    landed = _by_day(path)
    assert set(landed) == set(DAYS[:2]) and all(landed.values())
    with Warehouse(path).connect(read_only=True) as conn:
        logged = conn.execute(
            "SELECT partition, status FROM stripe_meta.loads WHERE resource = 'invoice_line_items' ORDER BY 1"
        ).fetchall()
    assert logged == [(DAYS[0], "loaded"), (DAYS[1], "loaded")]
