"""The windows a run of a dataflow's asset loads: its partitions, and a child list's loaded
partitions whose parents changed since they were read."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import dagster as dg

from stripe_assets.catalog import StripeResource
from stripe_assets.dataflows.partitions import PartitionKeyError, TimeModel
from stripe_assets.ingest.children import stale_partitions
from stripe_assets.ingest.client import StripeReader
from stripe_assets.ingest.outcomes import Window
from stripe_assets.ingest.warehouse import Warehouse


def run_windows(context: dg.AssetExecutionContext, dataflow: str, time: TimeModel) -> list[Window]:
    """The run's partitions as windows of the dataflow as it is now. The dataflows file may
    have changed since the run was queued (another frequency or start): then the run's keys
    name no window, and the step fails with one line saying so, not Dagster's parse error."""
    try:
        return [Window(k, *time.window(k)) for k in context.partition_keys]
    except ValueError:
        tags = context.run.tags
        asked = tags.get("dagster/partition") or tags.get("dagster/asset_partition_range_start") or "?"
        try:
            time.window(asked)
            problem = f"its partitions {_asked_keys(tags)} are not all partitions of the dataflow now"
        except PartitionKeyError as exc:
            problem = str(exc)
        raise dg.Failure(
            description=f"dataflow {dataflow} changed after this run was queued: {problem}; "
            "launch the run again for the dataflow's current partitions"
        ) from None


def stale_windows(
    reader: StripeReader, store: Warehouse, resource: StripeResource, time: TimeModel, warn: Callable[[str], None]
) -> list[Window]:
    """The loaded partitions of a child list whose parents changed since they were read."""
    windows = []
    for key in stale_partitions(reader, store, resource, warn=warn):
        try:
            windows.append(Window(key, *time.window(key)))
        except ValueError:  # a partition of an earlier dataflow setting: not this one's to re-read
            continue
    return windows


def _asked_keys(tags: Mapping[str, str]) -> str:
    if "dagster/partition" in tags:
        return tags["dagster/partition"]
    return f"{tags.get('dagster/asset_partition_range_start')}...{tags.get('dagster/asset_partition_range_end')}"
