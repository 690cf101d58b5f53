"""`benchmarks/cpu.py`'s zero-latency part loads every declared resource: a child list, and the
lists the emulator makes only days after their parents."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from stripe_assets_emulator import EmulatorConfig, start_emulator

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.mark.slow  # each load runs in a process of its own
def test_the_zero_latency_benchmark_loads_child_lists_and_late_resources(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # as `python benchmarks/cpu.py` imports its neighbours
    import cpu

    names = ("invoice_line_items", "credit_note_line_items")
    first, days = max(cpu.span_of(name, 1) for name in names)
    config = EmulatorConfig(
        seed=11, start=cpu.START, days=(first - cpu.START + timedelta(days=days)).days, per_day=40, api_key=cpu.KEY
    )
    with start_emulator(config) as emu:
        loaded = {name: cpu.load_in_process(cpu.ROOT, emu.url, name, 1, tmp_path / name)[0] for name in names}
    # Credit notes come days after their invoices: none on the first day the other lists read.
    assert all(count > 0 for count in loaded.values()), loaded
