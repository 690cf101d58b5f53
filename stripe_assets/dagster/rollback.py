"""`rollback_job`: the `stripe-assets rollback` command, launchable from the UI's launchpad.

Config: `resource` and either `run_id` (undo that run's loads, and later loads of the same
partitions) or `steps` (undo the newest N runs; 1 when both are empty), optionally `partition`.
Each partition it changes gets a materialization with `rolled_back_to`, so the asset's history shows it.
"""
# No `from __future__ import annotations`: Dagster reads the op's annotations at runtime.

from collections.abc import Callable, Mapping

import dagster as dg
from pydantic import Field

from stripe_assets.dagster.keys import asset_key
from stripe_assets.dagster.scope import ALONE, Scope
from stripe_assets.dataflows.config import DataflowConfigError, DataflowsConfig, load_dataflows
from stripe_assets.ingest.warehouse import WarehouseError
from stripe_assets.operations.dagster_record import partition_rows, rollback_materializations
from stripe_assets.operations.errors import OperationError
from stripe_assets.operations.rollback import RollbackRequest, run_rollback
from stripe_assets.operations.targets import dataflow_of

JOB_NAME = "rollback_job"


class RollbackConfig(dg.Config):
    resource: str = Field(description="The resource whose table and quarantine to roll back, e.g. charges.")
    run_id: str | None = Field(
        default=None,
        description="Undo this run's loads and every later load of the same partitions (a unique prefix works).",
    )
    steps: int | None = Field(
        default=None, description="Undo the newest N runs' loads; 1 when run_id and steps are both empty."
    )
    partition: str | None = Field(default=None, description="Only this partition, e.g. 2026-10-03.")


def build_rollback_job(
    reload: Callable[[], DataflowsConfig] = load_dataflows,
    keys: Mapping[str, dg.AssetKey] | None = None,
    scope: Scope = ALONE,
) -> dg.JobDefinition:
    """`reload` reads the dataflows (partition keys of the resource's dataflow are checked against them);
    `keys`: the asset key of each resource, as the translator made it (else `stripe/<resource>`);
    `scope`: the job's name and the warehouse it undoes loads in."""

    @dg.op(
        name=scope.name("rollback_loads"),
        description="Undo loads in one transaction; undone loads are recorded as rolled_back.",
        required_resource_keys={scope.warehouse_key},
    )
    def rollback_loads(context: dg.OpExecutionContext, config: RollbackConfig) -> None:
        stripe_warehouse = scope.warehouse(context)
        try:
            request = RollbackRequest(
                config.resource,
                run_id=config.run_id or None,  # the launchpad sends "" for a cleared field
                steps=config.steps,
                partition=config.partition or None,
            )
            try:
                dataflow = dataflow_of(reload(), request.resource)
            except DataflowConfigError as exc:  # a broken config must not block a rollback
                context.log.warning(f"{exc}; partition keys are not checked")
                dataflow = None
            result = run_rollback(stripe_warehouse.warehouse(), request, dataflow=dataflow)
        except (OperationError, WarehouseError) as exc:
            raise dg.Failure(description=f"rollback of {config.resource}: {exc}", allow_retries=False) from None
        assert result is not None  # no confirmation is asked for, so it always runs
        context.log.info(result.summary())
        partitions = [part.partition for part in result.plan.partitions]
        rows = partition_rows(stripe_warehouse.warehouse(), result.plan.resource, partitions)
        key = (keys or {}).get(result.plan.resource) or asset_key(result.plan.resource)
        for event in rollback_materializations(result, rows, key):
            context.log_event(event)
        context.add_output_metadata(
            {
                "rolled_back_runs": ", ".join(result.plan.run_ids),
                "partitions": len(result.plan.partitions),
                "rows_removed": result.rows_removed,
                "rows_restored": result.rows_restored,
                "quarantine_removed": result.quarantine_removed,
                "quarantine_restored": result.quarantine_restored,
            }
        )

    @dg.job(
        name=scope.name(JOB_NAME),
        description=(
            "Return a Stripe table and its quarantine to their state before a load (same as `stripe-assets rollback`)."
        ),
        tags={"stripe_assets/operation": "rollback"},
    )
    def rollback_job() -> None:
        rollback_loads()

    return rollback_job
