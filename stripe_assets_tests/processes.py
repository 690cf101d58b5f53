"""Command lines run as subprocesses under a deadline that scales with their work.

A fixed timeout is a bet on the machine's speed: on a loaded 2-core machine every step still
succeeds, only later. The deadline here grows with what the processes do (each one's start-up:
importing Dagster and loading the definitions, plus each asset partition they load, one after
another on shared cores) and is polled, so the wait ends as soon as they are done. When it
passes, the failure names what was still running and what it last said.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

# Generous on purpose: a deadline is reached only when something hangs, never by a slow machine.
START_UP_SECONDS = 180  # one `dagster` process: interpreter, Dagster, the definitions
SECONDS_PER_ASSET_PARTITION = 10


def work_deadline(processes: int, asset_partitions: int) -> float:
    """Seconds for `processes` command lines loading `asset_partitions` asset partitions in all."""
    return processes * START_UP_SECONDS + asset_partitions * SECONDS_PER_ASSET_PARTITION


@dataclass(frozen=True)
class Finished:
    args: Sequence[str]
    returncode: int
    output: str  # stdout and stderr, interleaved


def _tail(path: Path, chars: int = 1500) -> str:
    return path.read_text(errors="replace")[-chars:]


Args = Sequence[str | PathLike[str]]


def run_together(
    commands: Sequence[Args], *, deadline_seconds: float, log_dir: Path, cwd: Path, env: Mapping[str, str]
) -> list[Finished]:
    """Runs `commands` at once and waits for all of them, at most `deadline_seconds`.

    Output goes to files (a full pipe would stall a process nobody reads yet). Past the deadline,
    the processes still running are killed (with their children) and the AssertionError names each with its output tail.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    logs = [log_dir / f"process-{i}.log" for i in range(len(commands))]
    argvs = [[str(a) for a in args] for args in commands]
    started = time.monotonic()
    processes: list[subprocess.Popen] = []
    try:
        for argv, log in zip(argvs, logs, strict=True):
            with open(log, "w") as out:
                processes.append(subprocess.Popen(
                    argv, cwd=cwd, env=dict(env), stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                ))  # fmt: skip
        while any(p.poll() is None for p in processes) and time.monotonic() - started < deadline_seconds:
            time.sleep(1)
        running = [(argv, log) for p, argv, log in zip(processes, argvs, logs, strict=True) if p.poll() is None]
        if running:
            done = len(processes) - len(running)
            report = "\n\n".join(f"still running: {' '.join(argv)}\n{_tail(log)}" for argv, log in running)
            raise AssertionError(
                f"{len(running)} of {len(processes)} processes still running after {deadline_seconds:.0f} s "
                f"({done} finished):\n{report}"
            )
    finally:
        for p in processes:
            if p.poll() is None:  # with the step processes it started (its own process group)
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
    return [
        Finished(args=argv, returncode=p.returncode, output=log.read_text(errors="replace"))
        for p, argv, log in zip(processes, argvs, logs, strict=True)
    ]


def run_one(
    args: Args, *, deadline_seconds: float, log_dir: Path, cwd: Path, env: Mapping[str, str] | None = None
) -> Finished:
    [finished] = run_together([args], deadline_seconds=deadline_seconds, log_dir=log_dir, cwd=cwd,
                              env=os.environ if env is None else env)
    return finished
