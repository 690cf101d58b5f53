"""The real `dagster-daemon` as a subprocess, for the end-to-end tests of schedules, sensors and
freshness: started on a workspace file, its output in a log file, stopped however the test ends."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path

import dagster as dg
from dagster._core.scheduler.instigation import InstigatorType, ScheduleInstigatorData

from stripe_assets_tests.processes import run_one, work_deadline

BIN = Path(sys.executable).parent


@contextlib.contextmanager
def dagster_daemon(workspace: Path, *, cwd: Path, env: Mapping[str, str], log_path: Path) -> Iterator[subprocess.Popen]:
    with open(log_path, "w") as log:
        daemon = subprocess.Popen(
            [str(BIN / "dagster-daemon"), "run", "-w", str(workspace)],
            cwd=cwd, env=dict(env), stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            yield daemon
        finally:
            daemon.terminate()
            try:
                daemon.wait(20)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()


def wait_for_finished_run(
    instance: dg.DagsterInstance, daemon: subprocess.Popen, runs: dg.RunsFilter, seconds: float
) -> dg.DagsterRun | None:
    """The newest finished run matching `runs`, polled while the daemon lives (None on timeout)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and daemon.poll() is None:
        done = [r for r in instance.get_runs(runs) if r.is_finished]
        if done:
            return done[0]
        time.sleep(2)
    return None



def turn_on_schedule(
    instance: dg.DagsterInstance, name: str, workspace: Path, *, cwd: Path, env: Mapping[str, str], since: datetime
) -> None:
    """Turns schedule `name` (STOPPED by default) on as a user does (`dagster schedule start`),
    recorded as on `since`.

    The scheduler runs the ticks since a schedule was turned on, also those that passed before
    the daemon came up (up to `max_catchup_runs`); a schedule RUNNING by default only counts
    from the daemon's first look at it, so a tick before a slow start is never run. Turned on
    before its first tick, the schedule runs that tick however long the daemon takes to start.
    """
    done = run_one(
        [BIN / "dagster", "schedule", "start", name, "-w", workspace],
        deadline_seconds=work_deadline(processes=1, asset_partitions=0), log_dir=cwd / "schedule_start", cwd=cwd,
        env=env,
    )
    assert done.returncode == 0, done.output[-2000:]
    [state] = [s for s in instance.all_instigator_state(instigator_type=InstigatorType.SCHEDULE) if s.name == name]
    data = state.instigator_data
    assert isinstance(data, ScheduleInstigatorData) and (data.start_timestamp or 0) >= since.timestamp()
    # The command took its time; the schedule was asked for at `since`.
    instance.update_instigator_state(
        state.with_data(ScheduleInstigatorData(data.cron_schedule, start_timestamp=since.timestamp()))
    )


# What a test waits for from the daemon is polled until this deadline, so it returns as soon as
# the thing happens: long enough for a daemon starting on a loaded 2-core machine, never the
# measure of anything.
DAEMON_DEADLINE_SECONDS = 600
