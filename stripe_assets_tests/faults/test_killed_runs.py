"""Killing `dagster asset materialize` with SIGKILL: its step stops, the run is marked failed, the
rerun's rows stay, and `rollback --steps 1` undoes the rerun."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC
from pathlib import Path

import dagster as dg
import pytest

from stripe_assets.operations.run_workers import RUN_WORKER_TAG, fail_dead_runs

DAGSTER = str(Path(sys.executable).parent / "dagster")
RANGE = "2026-10-02...2026-10-03"


def materialize(project, emulator, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [DAGSTER, "asset", "materialize", "-m", "stripe_assets.definitions",
         "--select", "key:stripe/charges", "--partition-range", RANGE],
        env={**os.environ, **project.env, "STRIPE_API_BASE": emulator.url},
        cwd=project.root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **popen,
    )


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat[stat.rfind(")") + 2:].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def running(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if state[state.rfind(")") + 2] not in "ZX":
            alive.add(pid)
    return alive


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the step processes through /proc")
def test_killed_materialize_leaves_no_step_behind_and_the_rerun_stands(project, make_emulator):
    # The killed run fetches slowly (its step would still be fetching long after the rerun);
    # the rerun reads the same data from a fast emulator.
    slow = make_emulator(per_day=400, latency_ms=1500)
    fast = make_emulator(per_day=400)
    with project.instance():  # creates the instance's storage before the run does (both at once can clash)
        pass
    killed = materialize(project, slow)

    def killed_run_started() -> dg.DagsterRun | None:
        with project.instance() as instance:
            runs = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
            return next((r for r in runs if RUN_WORKER_TAG in r.tags), None)

    run = wait_for(killed_run_started, 120, "the step to start")
    steps = descendants(killed.pid)
    assert steps, "the multiprocess executor runs the step in a child process"
    killed.send_signal(signal.SIGKILL)  # the CLI only, as `kill -9 <pid>` does
    killed.wait(30)

    # The orphaned step notices its parent died and stops (it would fetch for ~15 s more).
    wait_for(lambda: not running(steps), 15, "the orphaned step processes to stop")

    rerun = materialize(project, fast)
    assert rerun.wait(240) == 0, rerun.stderr.read()[-2000:]
    rerun_id = {row[0] for row in project.query("SELECT DISTINCT _run_id FROM stripe.charges")}
    with project.instance() as instance:
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED
        assert fail_dead_runs(instance) == [run.run_id]
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
        assert fail_dead_runs(instance) == []

    assert run.run_id not in rerun_id and len(rerun_id) == 1
    expected = sorted(fast.listable_ids("charges", *_range()))
    assert sorted(r[0] for r in project.query("SELECT id FROM stripe.charges")) == expected

    runs = project.cli("runs", "charges")
    assert "FAILURE" in runs.stdout and "is gone (killed?)" in runs.stdout

    rolled = project.cli("rollback", "charges", "--steps", "1", "--yes")
    assert rolled.returncode == 0, rolled.stderr
    assert next(iter(rerun_id)) in rolled.stdout and run.run_id not in rolled.stdout


def _range():
    from datetime import datetime

    return datetime(2026, 10, 2, tzinfo=UTC), datetime(2026, 10, 4, tzinfo=UTC)
