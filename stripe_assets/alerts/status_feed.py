"""Run status changes (start, success, failure) read from the instance's event log after a cursor.

Storage ids of run status events come from one sequence, so "after storage id N" is a complete
and duplicate-free position, whatever the number of runs that changed status meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import dagster as dg

from stripe_assets.dataflows.alert_settings import RunStatus

RunStatusEvent = Literal[
    dg.DagsterEventType.RUN_START, dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.RUN_FAILURE
]
EVENT_STATUS: dict[RunStatusEvent, RunStatus] = {
    dg.DagsterEventType.RUN_START: "start",
    dg.DagsterEventType.RUN_SUCCESS: "success",
    dg.DagsterEventType.RUN_FAILURE: "failure",
}


@dataclass(frozen=True)
class StatusChange:
    storage_id: int
    run_id: str
    status: RunStatus
    timestamp: float


def fetch_status_changes(
    instance: dg.DagsterInstance,
    *,
    after_storage_id: int | None,
    limit: int,
    after_timestamp: float | None = None,
) -> list[StatusChange]:
    """The first `limit` status changes after the cursor (or after a time), oldest first."""
    changes: list[StatusChange] = []
    for event_type, status in EVENT_STATUS.items():
        result = instance.fetch_run_status_changes(
            dg.RunStatusChangeRecordsFilter(
                event_type, after_storage_id=after_storage_id, after_timestamp=after_timestamp
            ),
            limit=limit,
            ascending=True,
        )
        changes.extend(StatusChange(r.storage_id, r.run_id, status, r.timestamp) for r in result.records)
    changes.sort(key=lambda c: c.storage_id)
    return changes[:limit]


def latest_storage_id(instance: dg.DagsterInstance) -> int:
    """Storage id of the newest run status change (0 on an empty instance)."""
    newest = 0
    for event_type in EVENT_STATUS:
        result = instance.fetch_run_status_changes(event_type, limit=1, ascending=False)
        if result.records:
            newest = max(newest, result.records[0].storage_id)
    return newest
