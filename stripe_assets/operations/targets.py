"""Turning the names a user types (dataflow, resource, partition key) into what they mean."""

from __future__ import annotations

from stripe_assets.catalog import StripeResource, get_resource
from stripe_assets.dataflows.config import Dataflow, DataflowsConfig
from stripe_assets.dataflows.partitions import PartitionKeyError, time_model
from stripe_assets.operations.errors import OperationError


def resource_named(name: str) -> StripeResource:
    try:
        return get_resource(name)
    except ValueError as exc:
        raise OperationError(str(exc)) from None


def dataflow_named(config: DataflowsConfig, name: str) -> Dataflow:
    """The dataflow called `name`; its resource name works too (one dataflow per resource)."""
    for flow in config.dataflows:
        if flow.name == name:
            return flow
    for flow in config.dataflows:
        if flow.resource == name:
            return flow
    configured = ", ".join(f.name for f in config.dataflows) or "none"
    raise OperationError(f"no dataflow named {name!r} (configured: {configured})")


def dataflow_of(config: DataflowsConfig, resource: str) -> Dataflow | None:
    return next((f for f in config.dataflows if f.resource == resource), None)


def check_partition_key(dataflow: Dataflow | None, key: str) -> None:
    """A partition key must name the start of one of the dataflow's windows (e.g. 2026-10-03)."""
    if dataflow is None:  # no dataflow says what the keys look like: the loads table decides
        return
    try:
        time_model(dataflow).window(key)
    except PartitionKeyError as exc:
        raise OperationError(
            f"partition {key!r} {exc.problem} of dataflow {dataflow.name!r} ({exc.shape})"
        ) from None


def removed_resource(config: DataflowsConfig, name: str) -> StripeResource | None:
    """The declared resource `name` means (`refunds` or `stripe_refunds`) when no dataflow of
    the file loads it any more: its data may outlive the dataflow."""
    for candidate in (name, name.removeprefix("stripe_")):
        try:
            resource = get_resource(candidate)
        except ValueError:
            continue
        return resource if dataflow_of(config, resource.name) is None else None
    return None
