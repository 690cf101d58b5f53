"""The real `dagster-daemon` as a subprocess, for the end-to-end tests of schedules, sensors and
freshness: started on a workspace file, its output in a log file, stopped however the test ends."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

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
