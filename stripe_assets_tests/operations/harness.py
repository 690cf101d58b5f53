"""A real project around the operations commands: a dataflows file, a DuckDB warehouse, a Dagster
instance at DAGSTER_HOME, loads through the real asset, and the CLI as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from stripe_assets.dagster.assets import build_stripe_asset
from stripe_assets.dagster.resources import StripeApiResource, WarehouseResource
from stripe_assets.dataflows.config import load_dataflows
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets.settings import Settings, open_warehouse

# Two dataflows with a short history (few partitions keeps Dagster fast); the comments and the
# odd spacing are there to be kept by `delete`.
DATAFLOWS = """\
# Test dataflows.
dataflows:
  - name: stripe_charges      # the payments
    resource: charges
    start_time: 2026-10-01T00:10:00Z
    history_start: 2026-10-01T00:00:00Z
    enabled: true    # turned off by `stripe-assets delete`
    validation:
      threshold_pct: 5.0
    mapping:
      add:
        card_funding: payment_method_details.card.funding

  # Prices say nothing about `enabled`.
  - name: stripe_prices
    resource: prices
    start_time: 2026-10-01T00:10:00Z
    history_start: 2026-10-01T00:00:00Z
"""

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


@dataclass
class Project:
    root: Path
    dataflows: Path
    duckdb: Path
    dagster_home: Path
    api_key: str
    api_base: str
    lake: str | None = None  # STRIPE_ASSETS_WAREHOUSE: ducklake:<catalog>; None for the DuckDB file
    lake_data: Path | str | None = None  # STRIPE_ASSETS_LAKE_DATA_PATH: a folder, or s3://bucket/prefix

    @property
    def env(self) -> dict[str, str]:
        return {
            "STRIPE_API_KEY": self.api_key,
            "STRIPE_API_BASE": self.api_base,
            "STRIPE_ASSETS_DUCKDB_PATH": str(self.duckdb),
            "STRIPE_ASSETS_DATAFLOWS": str(self.dataflows),
            "DAGSTER_HOME": str(self.dagster_home),
            **({"STRIPE_ASSETS_WAREHOUSE": self.lake} if self.lake else {}),
            **({"STRIPE_ASSETS_LAKE_DATA_PATH": str(self.lake_data)} if self.lake_data else {}),
        }

    @property
    def warehouse(self) -> Warehouse:
        return open_warehouse(Settings.from_env(self.env))

    def instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.from_config(str(self.dagster_home))

    def cli(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        """`stripe-assets <args>` in a fresh process, as a user runs it (no terminal attached)."""
        return subprocess.run(
            [sys.executable, "-m", "stripe_assets.cli", *args],
            env={**os.environ, **self.env, **env},
            cwd=self.root,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def cli_json(self, *args: str) -> Any:
        done = self.cli(*args, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def load(
        self, emulator, resource: str | Sequence[str], first: str, last: str | None = None
    ) -> dg.ExecuteInProcessResult:
        """Load partitions `first`..`last` of `resource` (or of several) from `emulator` in one Dagster run."""
        dataflows = load_dataflows(self.dataflows)
        resources = [resource] if isinstance(resource, str) else list(resource)
        tags = {RANGE_START: first, RANGE_END: last} if last else None
        with self.instance() as instance:
            return dg.materialize(
                [build_stripe_asset(dataflows.for_resource(r)) for r in resources],
                instance=instance,
                partition_key=None if last else first,
                tags=tags,
                resources={
                    "stripe_api": StripeApiResource(api_key=emulator.api_key, api_base=emulator.url),
                    "stripe_warehouse": WarehouseResource(
                        duckdb_path=str(self.duckdb),
                        lake=self.lake,
                        lake_data_path=str(self.lake_data) if self.lake_data else None,
                    ),
                },
                raise_on_error=False,
            )

    def rows(self, resource: str) -> tuple[list[tuple], list[tuple]]:
        """Every row of the table and of its quarantine, all columns, in a stable order."""
        with self.warehouse.connect(read_only=True) as conn:
            table = conn.execute(f"SELECT * FROM stripe.{resource} ORDER BY id, _partition").fetchall()
            quarantine = conn.execute(f"SELECT * FROM stripe_quarantine.{resource} ORDER BY ALL").fetchall()
        return table, quarantine

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with self.warehouse.connect(read_only=True) as conn:
            return conn.execute(sql, params or []).fetchall()


def make_project(root: Path, emulator) -> Project:
    root.mkdir(parents=True, exist_ok=True)
    home = root / "dagster_home"
    home.mkdir()
    # Dagster prints a telemetry notice to stdout on first use; it must not mix into --json output.
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    dataflows = root / "dataflows.yaml"
    dataflows.write_text(DATAFLOWS)
    return Project(root, dataflows, root / "warehouse" / "stripe.duckdb", home, emulator.api_key, emulator.url)
