"""A dataflow's windows as Dagster partitions: the time model (`stripe_assets.dataflows.partitions`)
decides the windows and their keys; this only hands them to Dagster."""

from __future__ import annotations

import functools

import dagster as dg

from stripe_assets.dataflows.models import Dataflow
from stripe_assets.dataflows.partitions import WINDOWS, TimeModel


class PartitionedTimeModel(TimeModel):
    """A time model that also builds Dagster's partitions definition over its windows."""

    @functools.cached_property
    def partitions_def(self) -> dg.TimeWindowPartitionsDefinition:
        """The windows in Dagster: from the first through the still-open one."""
        windows = WINDOWS[self.frequency]
        return dg.TimeWindowPartitionsDefinition(
            start=self.first,
            fmt=windows.key_format,
            cron_schedule=windows.cron,
            timezone="UTC",
            end_offset=1,
        )


def time_model(dataflow: Dataflow) -> PartitionedTimeModel:
    model = TimeModel.of(dataflow)
    return PartitionedTimeModel(model.frequency, model.first)


def partitions_def_for(dataflow: Dataflow) -> dg.TimeWindowPartitionsDefinition:
    return time_model(dataflow).partitions_def
