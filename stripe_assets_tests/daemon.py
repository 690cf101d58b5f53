"""The real `dagster-daemon` as a subprocess, for the end-to-end tests of schedules, sensors and
freshness: started on a workspace file, its output in a log file, stopped however the test ends."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import dagster as dg

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



# What a test waits for from the daemon is polled until this deadline, so it returns as soon as
# the thing happens: long enough for a daemon starting on a loaded 2-core machine, never the
# measure of anything.
DAEMON_DEADLINE_SECONDS = 600
# A schedule of a minute dataflow every 15 minutes: a daemon that came up after the first tick
# (a schedule does not catch up ticks from before the daemon saw it) runs the next one, 15 minutes
# on, which loads from the same first window (backfill off): worth waiting for, not failing.
FIFTEEN_MINUTE_TICKS_DEADLINE_SECONDS = 15 * 60 + DAEMON_DEADLINE_SECONDS
