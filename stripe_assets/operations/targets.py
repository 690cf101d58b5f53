"""Turning the names a user types (dataflow, resource, partition key) into what they mean."""

from __future__ import annotations

from datetime import UTC, datetime

from stripe_assets.catalog import StripeResource, get_resource
from stripe_assets.dataflows.config import Dataflow, DataflowsConfig
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
    from stripe_assets.dataflows.partitions import KEY_FORMAT, WINDOW_WORDS, window_start

    fmt = KEY_FORMAT[dataflow.frequency]
    example = datetime(2026, 10, 5, tzinfo=UTC).strftime(fmt)  # a Monday: valid for all
    shape = f"{WINDOW_WORDS[dataflow.frequency]} windows, keys like {example}"
    try:
        moment = datetime.strptime(key, fmt).replace(tzinfo=UTC)
    except ValueError:
        raise OperationError(
            f"partition {key!r} is not a partition key of dataflow {dataflow.name!r} ({shape})"
        ) from None
    if window_start(dataflow.frequency, moment) != moment:
        raise OperationError(
            f"partition {key!r} does not start a window of dataflow {dataflow.name!r} ({shape})"
        )
