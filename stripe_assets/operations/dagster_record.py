"""What rollback and delete leave in the Dagster instance, so the asset's history tells the truth.

A rollback changes what a partition holds, so each partition it touched gets a materialization
saying to which load it went back (`rolled_back_to`) and which runs were undone; the partition
then no longer shows the undone run's figures as its latest. `delete` leaves an observation.
"""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets.operations.rollback import RollbackResult

NOTHING = "nothing: as before its first load"


def partition_rows(warehouse: Warehouse, resource: str, partitions: list[str]) -> dict[str | None, int]:
    """Rows each partition holds now, and the whole table's under the key None."""
    table = get_resource(resource).table
    with warehouse.connect(read_only=True) as conn:
        found = conn.execute(
            f"SELECT _partition, count(*) FROM {table} WHERE _partition IN (SELECT unnest(?)) GROUP BY ALL",
            [partitions],
        ).fetchall()
        total = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    rows: dict[str | None, int] = dict.fromkeys(partitions, 0)
    rows.update({str(p): int(n) for p, n in found})
    rows[None] = int(total[0]) if total else 0
    return rows


def rollback_materializations(
    result: RollbackResult, rows: Mapping[str | None, int], key: dg.AssetKey
) -> list[dg.AssetMaterialization]:
    """One materialization of the asset `key` per partition the rollback changed, oldest partition first."""
    events = []
    for part in sorted(result.plan.partitions, key=lambda p: p.partition):
        back_to = part.back_to
        undone = ", ".join(load.run_id for load in part.undo)
        metadata: dict[str, dg.RawMetadataValue] = {
            "rolled_back_to": back_to.run_id if back_to else NOTHING,
            "rolled_back_runs": undone,
            "rolled_back_at": result.at.isoformat(),
            "dagster/partition_row_count": rows.get(part.partition, 0),
            "dagster/row_count": rows.get(None, 0),
        }
        if back_to is not None and back_to.records_loaded is not None:
            metadata["records_loaded"] = back_to.records_loaded
        events.append(
            dg.AssetMaterialization(
                asset_key=key,
                partition=part.partition,
                description=(
                    f"Rolled back to run {back_to.run_id}" if back_to else f"Rolled back to {NOTHING}"
                ) + f" (undid {undone})",
                metadata=metadata,
            )
        )
    return events


def record_rollback(
    instance: dg.DagsterInstance, result: RollbackResult, warehouse: Warehouse, key: dg.AssetKey
) -> int:
    """Report a rollback done outside a run (the CLI) on the asset `key`; returns the events reported."""
    rows = partition_rows(warehouse, result.plan.resource, [p.partition for p in result.plan.partitions])
    events = rollback_materializations(result, rows, key)
    for event in events:
        instance.report_runless_asset_event(event)
    return len(events)


def record_delete(instance: dg.DagsterInstance, key: dg.AssetKey, dataflow: str, *, dropped: bool) -> None:
    """An observation on the asset `key`: its dataflow was disabled (and its data dropped)."""
    what = "disabled; its data and history were dropped" if dropped else "disabled; its data was kept"
    instance.report_runless_asset_event(
        dg.AssetObservation(
            asset_key=key,
            description=f"Dataflow {dataflow} {what} (stripe-assets delete)",
            metadata={"dataflow": dataflow, "deleted": what},
        )
    )
