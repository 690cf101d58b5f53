"""A child list's asset in a run that also loads its parent: the child is read from the parent's
table, so it starts after the parent's step has finished.

The dependency is not a Dagster `deps` edge: the parents log their materializations per partition
and yield no output, and Dagster skips the step downstream of an asset that yielded none. Instead
children are ordered last (`dagster/priority`) and, where steps run at once, wait for their
parent's step to end (it may fail: the child then fails with one line saying what to load).
"""

from __future__ import annotations

import time

import dagster as dg

# Steps with a lower priority start after the others in a run (the in-process executor runs
# them in that order, so a child never waits for a parent that has not started).
CHILD_PRIORITY = "-1"
_DONE = {
    dg.DagsterEventType.STEP_SUCCESS,
    dg.DagsterEventType.STEP_FAILURE,
    dg.DagsterEventType.STEP_SKIPPED,
}
POLL_SECONDS = 0.5


def wait_for_parent(context: dg.AssetExecutionContext, parent: dg.AssetKey) -> None:
    """Return once the step of `parent` in this run has ended (at once when the run does not
    load it)."""
    selection = context.run.asset_selection
    if not selection or parent not in selection:
        return
    step = parent.to_python_identifier()
    # Said also when the parent has already ended: the log shows which asset the child followed.
    context.log.info(f"waiting for {parent.to_user_string()} to load first in this run")
    while True:
        records = context.instance.get_records_for_run(context.run.run_id, of_type=_DONE).records
        ended = [r.event_log_entry for r in records if r.event_log_entry.step_key == step]
        if ended:
            break
        time.sleep(POLL_SECONDS)
    # A parent that failed here leaves the child reading the parents an earlier run landed (or
    # failing for lack of them): said, so the child's figures are not taken for this run's.
    outcome = ended[0].dagster_event_type
    if outcome == dg.DagsterEventType.STEP_SUCCESS:
        context.log.info(f"{parent.to_user_string()} loaded in this run; reading its rows now")
    else:
        how = "failed" if outcome == dg.DagsterEventType.STEP_FAILURE else "was skipped"
        context.log.warning(
            f"{parent.to_user_string()} {how} in this run; reading its rows in the warehouse "
            "(an earlier run's, for the partitions this run did not land)"
        )
