"""The code location is built once per process and inputs: Dagster asks for it about seven times
in a run's process, and each build cost a second of CPU; a changed input still builds it anew."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import dagster._core.storage.sql as dagster_sql
from dagster._core.storage.sql import get_alembic_config

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


def test_dagsters_schema_check_reads_its_migration_scripts_once(tmp_path: Path, monkeypatch) -> None:
    import stripe_assets.operations.first_use  # noqa: F401  (as the instance's storage imports it)

    config = get_alembic_config(dagster_sql.__file__.replace("sql.py", "runs/sqlite/sqlite_run_storage.py"))
    folder = dagster_sql.ScriptDirectory.from_config(config)
    assert dagster_sql.ScriptDirectory.from_config(config) is folder
    # And an instance still creates its storage and opens it again.
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text((Path(__file__).resolve().parents[1] / "dagster.yaml").read_text())
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    for _ in range(2):
        with dg.DagsterInstance.get() as instance:
            assert instance.get_runs_count() == 0
