"""What the Dagster UI shows after a ranged load and a run that applies changes, read through
Dagster's GraphQL API as the UI reads it, against the warehouse: every loaded partition's check
status, the asset's latest materialization (the newest partition) and its row count."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from dagster_graphql.test.utils import define_out_of_process_context, execute_dagster_graphql

UI_STATE = """
query UiState($key: AssetKeyInput!) {
  assetNodeOrError(assetKey: $key) {
    ... on AssetNode {
      assetChecksOrError {
        ... on AssetChecks {
          checks {
            name
            partitionStatuses {
              ... on AssetCheckTimePartitionStatuses { ranges { startKey endKey status } }
            }
          }
        }
      }
    }
  }
  assetsLatestInfo(assetKeys: [$key]) {
    latestMaterialization {
      partition
      metadataEntries { label ... on IntMetadataEntry { intValue } }
    }
  }
}
"""


@contextmanager
def _ui(project):
    """The code location as `dagster dev` serves it (a code server process), over the project's instance."""
    workspace = project.root / "workspace.yaml"
    workspace.write_text(
        "load_from:\n  - python_module:\n      module_name: stripe_assets.definitions\n"
        "      location_name: stripe_assets\n"
    )
    with project.instance() as instance, define_out_of_process_context(str(workspace), None, instance) as context:
        yield lambda key: execute_dagster_graphql(context, UI_STATE, {"key": {"path": key}}).data


def _check_statuses(data) -> dict[str, str]:
    [check] = data["assetNodeOrError"]["assetChecksOrError"]["checks"]
    assert check["name"] == "schema_validation"
    by_partition = {}
    for found in check["partitionStatuses"]["ranges"]:
        day, last = date.fromisoformat(found["startKey"]), date.fromisoformat(found["endKey"])
        while day <= last:
            by_partition[day.isoformat()] = found["status"]
            day += timedelta(days=1)
    return by_partition


def _latest(data) -> tuple[str, dict[str, int]]:
    [info] = data["assetsLatestInfo"]
    latest = info["latestMaterialization"]
    return latest["partition"], {e["label"]: e.get("intValue") for e in latest["metadataEntries"]}


@pytest.mark.slow
def test_after_a_ranged_load_and_a_run_applying_changes_the_ui_matches_the_warehouse(small_project, live):
    loaded = ["2026-10-01", "2026-10-02", "2026-10-03"]
    assert small_project.load(live, "customers", loaded[0], loaded[-1]).success
    made = live.advance(hours=6, changes={"customer_updated": 12, "customer_deleted": 3}).to_json()
    assert {k: n for k, n in made["changes"].items() if n} == {"customer_updated": 12, "customer_deleted": 3}
    # One partition's run applies the changes to the partitions loaded before.
    result = small_project.load(live, "customers", "2026-10-04")
    assert result.success
    changed = {
        e.partition for e in result.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION" and "rows_updated" in e.materialization.metadata
    }  # fmt: skip
    assert changed and changed <= set(loaded), "the changes touched the partitions of the ranged load"
    loaded.append("2026-10-04")

    with _ui(small_project) as ui:
        data = ui(["stripe", "customers"])
    statuses = _check_statuses(data)
    in_warehouse = {
        p for (p,) in small_project.query("SELECT DISTINCT _partition FROM stripe.customers")
    }
    assert in_warehouse == set(loaded)
    partition, metadata = _latest(data)
    [(rows,)] = small_project.query("SELECT count(*) FROM stripe.customers")
    shown = ({p: statuses.get(p, "MISSING") for p in loaded}, partition, metadata.get("dagster/row_count"))
    assert shown == (dict.fromkeys(loaded, "SUCCEEDED"), max(in_warehouse), rows)
