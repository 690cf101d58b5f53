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
        yield lambda key, query=UI_STATE: execute_dagster_graphql(context, query, {"key": {"path": key}}).data


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


def _ranged_load_then_changes(small_project, live) -> list[str]:
    """A ranged load of three days, then one day's run that applies changes to them: the loaded days."""
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
    return loaded


@pytest.mark.slow
def test_after_a_ranged_load_and_a_run_applying_changes_the_ui_matches_the_warehouse(small_project, live):
    loaded = _ranged_load_then_changes(small_project, live)
    with _ui(small_project) as ui:
        data = ui(["stripe", "customers"])
    statuses = _check_statuses(data)
    in_warehouse = {p for (p,) in small_project.query("SELECT DISTINCT _partition FROM stripe.customers")}
    assert in_warehouse == set(loaded)
    partition, metadata = _latest(data)
    [(rows,)] = small_project.query("SELECT count(*) FROM stripe.customers")
    shown = ({p: statuses.get(p, "MISSING") for p in loaded}, partition, metadata.get("dagster/row_count"))
    assert shown == (dict.fromkeys(loaded, "SUCCEEDED"), max(in_warehouse), rows)


LATEST_EXECUTION = """
query Latest($key: AssetKeyInput!) {
  assetNodeOrError(assetKey: $key) {
    ... on AssetNode {
      assetChecksOrError {
        ... on AssetChecks {
          checks { executionForLatestMaterialization { runId status evaluation { description } } }
        }
      }
    }
  }
  assetCheckExecutions(assetKey: $key, checkName: "schema_validation", limit: 50) {
    runId partition status evaluation { description }
  }
}
"""


@pytest.mark.slow
def test_the_checks_latest_execution_is_the_newest_partitions_after_a_run_applying_changes(small_project, live):
    """The asset page's Checks tab shows the check's latest execution: after a run of the newest
    partition that also validated changes to older ones, it is the newest partition's result."""
    loaded = _ranged_load_then_changes(small_project, live)
    with _ui(small_project) as ui:
        data = ui(["stripe", "customers"], LATEST_EXECUTION)
    [check] = data["assetNodeOrError"]["assetChecksOrError"]["checks"]
    latest = check["executionForLatestMaterialization"]
    by_partition: dict[str, dict] = {}
    for execution in reversed(data["assetCheckExecutions"]):  # oldest first: the newest one stays
        by_partition[execution["partition"]] = execution
    newest = by_partition[max(loaded)]
    changed_too = [p for p in loaded[:-1] if by_partition[p]["runId"] == newest["runId"]]
    assert changed_too, "the run evaluated older partitions besides its own"
    description = latest["evaluation"]["description"]
    shown = (
        latest["runId"],
        latest["status"],
        max(loaded) in description,
        newest["evaluation"]["description"] in description,
    )
    assert shown == (newest["runId"], newest["status"], True, True)
    assert not any(p in description.split(":")[0] for p in changed_too)


PLOTTED = """
query Plotted($key: AssetKeyInput!) {
  assetOrError(assetKey: $key) {
    ... on Asset {
      assetMaterializations(limit: 100) {
        partition
        timestamp
        metadataEntries { label __typename ... on IntMetadataEntry { intValue } }
      }
    }
  }
}
"""
# What the asset's plots draw per partition (its newest materialization's numbers).
PARTITION_SERIES = (
    "dagster/row_count", "dagster/partition_row_count", "records_fetched", "records_loaded", "records_rejected",
    "error_rate_pct",
)  # fmt: skip


@pytest.mark.slow
def test_the_plots_draw_every_partition_whether_loaded_or_changed_last(small_project, live):
    """Dagster plots the numbers of each partition's newest materialization: a partition whose
    newest materialization applied changes still has every series, each key of one numeric type."""
    loaded = _ranged_load_then_changes(small_project, live)
    with _ui(small_project) as ui:
        materializations = ui(["stripe", "customers"], PLOTTED)["assetOrError"]["assetMaterializations"]
    newest: dict[str, dict[str, dict]] = {}
    types: dict[str, set[str]] = {}
    for m in sorted(materializations, key=lambda m: float(m["timestamp"])):
        entries = {e["label"]: e for e in m["metadataEntries"]}
        newest[m["partition"]] = entries
        for label, entry in entries.items():
            if entry["__typename"] in ("IntMetadataEntry", "FloatMetadataEntry"):
                types.setdefault(label, set()).add(entry["__typename"])
    changed_last = [p for p in loaded if "rows_updated" in newest[p]]
    assert changed_last, "some partition's newest materialization applied changes"
    missing = {p: [k for k in PARTITION_SERIES if k not in newest[p]] for p in loaded}
    assert {p: keys for p, keys in missing.items() if keys} == {}
    assert {label: kinds for label, kinds in types.items() if len(kinds) > 1} == {}
    rows = dict(small_project.query("SELECT _partition, count(*) FROM stripe.customers GROUP BY ALL"))
    shown = {p: newest[p]["dagster/partition_row_count"]["intValue"] for p in changed_last}
    assert shown == {p: rows[p] for p in changed_last}
