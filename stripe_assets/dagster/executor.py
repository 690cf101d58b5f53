"""The executor of every run: one process per asset, all at once whatever the core count.

Loading is waiting on the Stripe API (the key's shared budget paces it), not computing, so
the default of one process per core would leave most of the budget unused on small machines.

Step processes start warm. Where it is safe they fork from the run's own process, which has
imported everything and built the definitions already, so every step starts within a fraction
of a second. That is only safe on Linux (macOS's system libraries do not survive a fork) and
from a process running one thread (a lock another thread holds at that moment stays held in the
child for good). Elsewhere, as in the run workers `dagster dev` and the daemon launch, which
keep threads of their own, steps fork from a server that loaded the code location once per run
(`stripe_assets.fork_server`): 3 s later than a fork, but started afresh (Dagster's default),
each step would import Dagster, pandas, pandera, pyarrow, DuckDB and this package again and
build the definitions, costing more CPU than a small load itself.

Dagster's public `multiprocess_executor` offers `spawn` and `forkserver` (with `preload_modules`)
but not `fork`, and has no hook for the crash line, so its executor class is built here directly
(Dagster is pinned to one minor version in pyproject.toml). Measured with
`benchmarks/executor.py` (benchmarks/RESULTS.md): the public executor with `forkserver` and
`preload_modules: [stripe_assets.fork_server]` starts steps as warm as this one's fork server
does, but forking from the run's process starts them about ten times sooner and halves the run's
CPU.
"""

import sys
import threading
from collections.abc import Iterator
from typing import Any

import dagster as dg

# Private, each for a measured or functional reason (see the module doc):
# the constructor's retry setting; Dagster exports no public name for it.
from dagster._core.execution.retries import RetryMode

# The only way to start steps by `fork`: a median step start of 1.5 s against 17.7 s for the public
# executor's forkserver with the same preload, 7.8 s of CPU for a six-asset run against 16.2 s.
from dagster._core.executor.multiprocess import MultiprocessExecutor

# The type of the error the executor logs for a step, which the crash line replaces.
from dagster._utils.error import SerializableErrorInfo

from stripe_assets.dagster.step_crash import crash_line, oom_kills

FORK_SERVER = "stripe_assets.fork_server"


def step_start_method() -> str:
    """How this process should start a run's step processes, decided when the run starts."""
    return "fork" if sys.platform == "linux" and threading.active_count() == 1 else "forkserver"


class StepProcessExecutor(MultiprocessExecutor):
    """Dagster's multiprocess executor, whose step processes that die without an error (a
    memory limit's out-of-memory kill) fail with one line naming the cause (`step_crash`)."""

    def execute(self, plan_context: Any, execution_plan: Any) -> Iterator[Any]:
        self._crashes: dict[str, str] = {}
        self._kills_before = oom_kills()
        for event in super().execute(plan_context, execution_plan):
            # Dagster explains a crash in an engine event just before it logs the step's failure.
            if event.is_engine_event and event.step_key and "child process for step" in (event.message or ""):
                self._crashes[event.step_key] = event.message or ""
            yield event

    def log_failure_or_retry_event_after_error(self, step_context: Any, err_info: Any, known_state: Any) -> Any:
        if err_info.cls_name == "ChildProcessCrashException":
            key = step_context.step.key
            explanation = getattr(self, "_crashes", {}).get(key)
            line = crash_line(key, explanation, kills_before=getattr(self, "_kills_before", None))
            err_info = SerializableErrorInfo(line, [], "StepProcessCrashed", cause=err_info)
        return super().log_failure_or_retry_event_after_error(step_context, err_info, known_state)


def step_processes(max_concurrent: int) -> dg.ExecutorDefinition:
    @dg.executor(name="multiprocess", requirements=dg.multiple_process_executor_requirements())
    def multiprocess(_: dg.InitExecutorContext) -> MultiprocessExecutor:
        start = step_start_method()
        return StepProcessExecutor(
            retries=RetryMode.ENABLED,  # as Dagster's own: ops' retry policies apply
            max_concurrent=max_concurrent,
            start_method=start,
            explicit_forkserver_preload=[FORK_SERVER] if start == "forkserver" else None,
        )

    return multiprocess
