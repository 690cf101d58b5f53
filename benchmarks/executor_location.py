"""The project's code location with its step executor chosen by $BENCH_EXECUTOR, for
`benchmarks/executor.py` only:

    fork           this project's executor as `dagster asset materialize` runs it (steps fork from
                   the run's own process, which runs one thread)
    forkserver     this project's executor as `dagster dev`'s run workers run it (steps fork from a
                   server that imported `stripe_assets.fork_server`)
    public         Dagster's public `multiprocess_executor`, `start_method: {forkserver:
                   {preload_modules: [stripe_assets.fork_server]}}`
    spawn          Dagster's public `multiprocess_executor` as it comes (each step a fresh process)
"""

import os

import dagster as dg

import stripe_assets.dagster.executor as executor
import stripe_assets.dagster.factory as factory
from stripe_assets import definitions

MODE = os.environ.get("BENCH_EXECUTOR", "fork")


def _public(max_concurrent: int) -> dg.ExecutorDefinition:
    start = {"forkserver": {"preload_modules": [executor.FORK_SERVER]}} if MODE == "public" else {"spawn": {}}
    return dg.multiprocess_executor.configured(
        {"max_concurrent": max_concurrent, "start_method": start}, name="multiprocess"
    )


if MODE == "forkserver":
    executor.step_start_method = lambda: "forkserver"
elif MODE in ("public", "spawn"):
    factory.step_processes = _public

defs = definitions.defs
