"""Runs whose process died: a step left behind stops, and the run is marked failed.

Killing `dagster asset materialize` (or a run worker) with SIGKILL leaves two things behind: the
step processes the multiprocess executor spawned keep running, and the run stays STARTED
forever. Each step therefore records its run worker (host, pid and the pid's start time, so a
reused pid is not mistaken for it) as a run tag, and watches it: a step whose parent process
died exits at once (the parent-pid-changed test Dagster uses for its own helper processes, plus
the parent's multiprocessing sentinel). `fail_dead_runs` marks STARTED runs whose recorded
worker is gone as failed; the `stripe_dead_runs` sensor calls it in the daemon.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import sys
import threading
from dataclasses import dataclass

import dagster as dg

RUN_WORKER_TAG = "stripe_assets/run_worker"  # "<host>:<pid>:<start time>"
POLL_SECONDS = 1.0


@dataclass(frozen=True)
class Worker:
    host: str
    pid: int
    started: str  # the process's start time in clock ticks since boot ("" where unknown)

    def tag(self) -> str:
        return f"{self.host}:{self.pid}:{self.started}"

    @classmethod
    def parse(cls, tag: str) -> Worker | None:
        parts = tag.rsplit(":", 2)
        try:
            return cls(parts[0], int(parts[1]), parts[2]) if len(parts) == 3 else None
        except ValueError:
            return None

    def alive(self) -> bool:
        """Whether this process still runs (only answerable on its own host: else True)."""
        if self.host != socket.gethostname():
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        stat = _proc_stat(self.pid)
        if stat is None:
            return True  # no /proc: the pid exists, take it for alive
        state, started = stat
        return state not in ("Z", "X") and (not self.started or started == self.started)


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time) of a process from /proc, None where /proc is not available."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2:].split()  # the command name may contain spaces
    return (fields[0], fields[19]) if len(fields) > 19 else None


def this_worker(pid: int) -> Worker:
    stat = _proc_stat(pid)
    return Worker(socket.gethostname(), pid, stat[1] if stat else "")


def guard_step(instance: dg.DagsterInstance, run_id: str) -> None:
    """Record the run worker on the run, and stop this step if that worker dies first."""
    parent = multiprocessing.parent_process()
    worker = this_worker(parent.pid if parent is not None and parent.pid else os.getpid())
    run = instance.get_run_by_id(run_id)
    if run is not None and RUN_WORKER_TAG not in run.tags:
        instance.add_run_tags(run_id, {RUN_WORKER_TAG: worker.tag()})
    if parent is None:
        return  # in-process execution: the step dies with its run
    watcher = threading.Thread(
        target=_stop_when_orphaned, args=(parent, os.getppid()), name="stripe-assets-parent-watch", daemon=True
    )
    watcher.start()


def _stop_when_orphaned(parent: multiprocessing.process.BaseProcess, ppid: int) -> None:
    while True:
        parent.join(POLL_SECONDS)  # returns early once the parent's sentinel closes
        if os.getppid() != ppid or not parent.is_alive():
            break
    print(
        f"stripe-assets: the run process {ppid} of this step died; stopping the step "
        "(what it had not landed stays untouched)",
        file=sys.stderr,
        flush=True,
    )
    os._exit(70)  # no cleanup: an unfinished write transaction is rolled back by DuckDB


def fail_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark STARTED runs whose recorded run worker is gone as failed; returns their ids."""
    failed = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
        run = record.dagster_run
        tag = run.tags.get(RUN_WORKER_TAG)
        worker = Worker.parse(tag) if tag else None
        if worker is None or worker.alive():
            continue
        instance.report_run_failed(
            run,
            f"the run's process {worker.pid} on {worker.host} is gone (killed?); marked failed. "
            "Partitions it had landed stay loaded; rerun the rest",
        )
        failed.append(run.run_id)
    return failed
