"""The Stripe assets, one per dataflow (a resource each), with their `schema_validation` checks:
the asset's spec here; what a run does in `asset_run.py` (its windows in `windows.py`, its check
results in `outcomes.py`, its changes from events in `changes.py`).
(No `from __future__ import annotations` here: Dagster inspects the context annotation.)
"""

import dagster as dg

from stripe_assets.catalog.child import child_of
from stripe_assets.dagster.asset_run import AssetSetup, run_asset
from stripe_assets.dagster.children import CHILD_PRIORITY, wait_for_parent
from stripe_assets.dagster.keys import asset_key
from stripe_assets.dagster.metadata import column_schema
from stripe_assets.dagster.outcomes import CHECK_NAME, LEFT_TO_KEY
from stripe_assets.dagster.partitions import time_model
from stripe_assets.dagster.scope import ALONE, Scope
from stripe_assets.dataflows.api_settings import ApiSettings
from stripe_assets.dataflows.config import Dataflow
from stripe_assets.dataflows.freshness import freshness_windows
from stripe_assets.dataflows.schedules import RESOURCE_TAG
from stripe_assets.ingest.stripe_schema import API_VERSION
from stripe_assets.ingest.warehouse.history import HistoryRetention
from stripe_assets.operations.run_workers import guard_step

__all__ = ["CHECK_NAME", "LEFT_TO_KEY", "asset_tags", "build_stripe_asset"]


def asset_tags(dataflow: Dataflow) -> dict[str, str]:
    """The tags of a dataflow's asset that name it and its resource (kept over a translator's spec)."""
    return {"stripe_assets/dataflow": dataflow.name, RESOURCE_TAG: dataflow.resource}


def build_stripe_asset(
    dataflow: Dataflow,
    retention: HistoryRetention = HistoryRetention(),
    api: ApiSettings | None = None,
    key: dg.AssetKey | None = None,
    parent_key: dg.AssetKey | None = None,
    scope: Scope = ALONE,
) -> dg.AssetsDefinition:
    """The dataflow's asset with its check; `key` replaces `stripe/<resource>` (see the translator);
    it reads and writes with the resources of `scope`.
    A child list's `parent_key` is its parent's asset as the project keys it (default
    `stripe/<parent>`): in a run loading both, the child waits for that asset's step."""
    reading = api or ApiSettings()
    resource = dataflow.declaration
    key = key or asset_key(resource.name)
    time = time_model(dataflow)
    partitions_def = time.partitions_def
    columns = dataflow.columns()
    settings = dataflow.validation
    freshness = freshness_windows(dataflow)
    child = child_of(resource)
    parent = (parent_key or asset_key(child.parent)) if child is not None else None
    setup = AssetSetup(dataflow, resource, key, time, columns, retention, reading, child, parent)

    @dg.asset(
        key=key,
        group_name=resource.group,
        description=(
            f"Stripe {resource.name} created in each partition window, landed in DuckDB table "
            f"`{resource.table}` (invalid records in `{resource.quarantine_table}`). "
            f"Dataflow `{dataflow.name}`."
        ),
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds={"stripe", "duckdb"},
        op_tags={"dagster/priority": CHILD_PRIORITY} if child is not None else None,
        metadata={
            "dagster/column_schema": column_schema(columns),
            "dagster/table_name": resource.table,
            "dataflow": dataflow.name,
            **(
                {"parent": f"{parent.to_user_string()}, column {child.parent_column}"}
                if child is not None and parent is not None
                else {}
            ),
            # The UI rounds the policy's windows to whole days; the exact ones, as `dataflows` says.
            **({"freshness": freshness.describe()} if freshness else {}),
        },
        tags=asset_tags(dataflow),
        required_resource_keys=scope.resource_keys,
        output_required=False,  # materializations are logged per accepted partition
        # Evaluated by the daemon from the newest materialization (no op in the asset's runs).
        freshness_policy=(
            dg.FreshnessPolicy.time_window(fail_window=freshness.fail_after, warn_window=freshness.warn_after)
            if freshness
            else None
        ),
        check_specs=[
            dg.AssetCheckSpec(
                CHECK_NAME,
                asset=key,
                blocking=True,
                partitions_def=partitions_def,
                description=(
                    f"Every record against Stripe's schema (API {API_VERSION}); "
                    f"fails the partition above {settings.threshold_pct:g}% invalid records"
                    + ("" if settings.partial_ingestion else " or on any invalid record (partial ingestion off)")
                ),
            )
        ],
    )
    def _asset(context: dg.AssetExecutionContext):
        guard_step(context.instance, context.run.run_id)  # a step never outlives its run process
        if parent is not None:
            wait_for_parent(context, parent)
        yield from run_asset(setup, context, scope.api(context), scope.warehouse(context))

    return _asset
