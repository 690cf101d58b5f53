"""A step process that dies without an error (a memory limit's out-of-memory kill) fails the run
with one line naming the cause and the memory limit, not a bare ChildProcessCrashException."""

from __future__ import annotations

import os
import signal

import dagster as dg
import pytest

from stripe_assets.alerts.build import run_failure
from stripe_assets.dagster.executor import step_processes
from stripe_assets.dagster.step_crash import memory_limit


@dg.op
def killed_like_at_a_memory_limit() -> None:
    os.kill(os.getpid(), signal.SIGKILL)  # what the kernel's out-of-memory killer sends


@dg.job(executor_def=step_processes(2))
def crashing_job() -> None:
    killed_like_at_a_memory_limit()


@pytest.mark.slow
def test_a_step_killed_at_the_memory_limit_fails_with_a_line_naming_the_limit(tmp_path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        result = dg.execute_job(dg.reconstructable(crashing_job), instance=instance, raise_on_error=False)
        assert not result.success
        failure = run_failure(instance, result.run_id)  # what the alert and `stripe-assets runs` show
    step = "killed_like_at_a_memory_limit"
    assert failure["failed_step"] == step
    limit = memory_limit()
    where = (
        f"the memory limit of {limit / 2**30:.1f} GiB (cgroup) of this run" if limit is not None
        else "the machine's memory (no memory limit is set for this run's cgroup)"
    )
    assert failure["error"] in (
        f"the process of step {step} was killed {how} at {where}: give the run more memory "
        "or load fewer partitions per run"
        for how in ("(SIGKILL), as the out-of-memory killer does", "by the out-of-memory killer")
    ), failure["error"]
