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
