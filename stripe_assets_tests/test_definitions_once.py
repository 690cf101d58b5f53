"""The code location is built once per process and inputs: Dagster asks for it about seven times
in a run's process, and each build cost a second of CPU; a changed input still builds it anew."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from stripe_assets.definitions import defs

CHARGES = """\
dataflows:
  - name: stripe_charges
    resource: charges
    start_time: 2026-10-01T00:10:00Z
    history_start: 2026-10-01T00:00:00Z
"""


def _keys(definitions: dg.Definitions) -> set[str]:
    return {k.to_user_string() for k in definitions.resolve_asset_graph().get_all_asset_keys()}


def test_the_definitions_are_built_once_until_an_input_changes(tmp_path: Path, monkeypatch) -> None:
    flows = tmp_path / "dataflows.yaml"
    flows.write_text(CHARGES)
    monkeypatch.setenv("STRIPE_ASSETS_DATAFLOWS", str(flows))
    first = defs()
    assert defs() is first  # what Dagster's repeated loads in one process get
    assert "stripe/charges" in _keys(first) and "stripe/refunds" not in _keys(first)

    flows.write_text(CHARGES + CHARGES.replace("charges", "refunds").replace("dataflows:\n", ""))
    changed = defs()
    assert changed is not first and "stripe/refunds" in _keys(changed)

    monkeypatch.setenv("STRIPE_ASSETS_DUCKDB_PATH", str(tmp_path / "other.duckdb"))
    assert defs() is not changed  # the environment is an input too
