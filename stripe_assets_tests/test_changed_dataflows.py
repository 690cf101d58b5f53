"""A dataflows file changed between a run's queueing and its launch: the run fails with one line
naming the dataflow and what changed, not Dagster's parse error or an unknown step."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.definitions.reconstruct import ReconstructableRepository
from dagster._core.execution.api import execute_run_iterator

from stripe_assets.alerts.build import run_failure
from stripe_assets_tests.operations.harness import DATAFLOWS

PRICES = dg.AssetKey(["stripe", "prices"])


def queue_then_launch(project, changed: str) -> dict:
    """Create a run of prices for 2026-10-03 with the file as it is, change the file, execute it."""
    from stripe_assets.definitions import defs

    job = defs().get_repository_def().get_implicit_job_def_for_assets([PRICES])
    assert job is not None
    with project.instance() as instance:
        run = instance.create_run_for_job(
            job_def=job.get_subset(asset_selection={PRICES}), asset_selection=frozenset({PRICES}),
            tags={"dagster/partition": "2026-10-03"},
        )
        project.dataflows.write_text(changed)
        repository = ReconstructableRepository.for_module("stripe_assets.definitions", "defs", str(project.root))
        # As a run worker does: the whole job as the code location now defines it, subset there.
        with contextlib.suppress(Exception):  # the failure is in the event log, as for a run worker
            list(execute_run_iterator(repository.get_reconstructable_job(job.name), run, instance))
        return run_failure(instance, run.run_id)  # what the alert and `stripe-assets runs` say


@pytest.mark.slow
def test_a_run_whose_dataflows_partitions_changed_fails_in_one_line_naming_the_dataflow(project):
    hourly = DATAFLOWS.replace("    resource: prices\n", "    resource: prices\n    frequency: hour\n")
    failure = queue_then_launch(project, hourly)
    assert failure["failed_step"] == "stripe__prices"
    assert re.fullmatch(
        r"dataflow stripe_prices changed after this run was queued: partition '2026-10-03' is not a partition "
        r"key \(hourly windows, keys like \d{4}-\d\d-\d\d-\d\d:00\); launch the run again for the "
        r"dataflow's current partitions",
        failure["error"],
    ), failure["error"]



@pytest.mark.slow
def test_a_run_whose_dataflow_was_removed_fails_in_one_line_naming_it(project):
    """As the daemon launches it: `dagster api execute_run`, a run worker of its own."""
    from dagster._core.execution.api import create_execution_plan
    from dagster._grpc.types import ExecuteRunArgs
    from dagster_shared.serdes import serialize_value

    repository = ReconstructableRepository.for_module("stripe_assets.definitions", "defs", str(project.root))
    recon = repository.get_reconstructable_job("__ASSET_JOB")
    job = recon.get_definition().get_subset(asset_selection={PRICES})
    with project.instance() as instance:
        run = instance.create_run_for_job(
            job_def=job, execution_plan=create_execution_plan(job), asset_selection=frozenset({PRICES}),
            tags={"dagster/partition": "2026-10-03"}, job_code_origin=recon.get_python_origin(),
        )
        project.dataflows.write_text(DATAFLOWS.split("  # Prices say nothing")[0])  # prices removed
        origin = recon.get_python_origin()
        worker = ExecuteRunArgs(job_origin=origin, run_id=run.run_id, instance_ref=instance.get_ref())
        subprocess.run(
            [str(Path(sys.executable).parent / "dagster"), "api", "execute_run", serialize_value(worker)],
            env={**os.environ, **project.env}, capture_output=True, timeout=300, check=False,
        )
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
        failure = run_failure(instance, run.run_id)
    assert failure == {
        "error": "the dataflows file changed after this run was queued: asset stripe/prices is no longer defined "
        "(the dataflow of prices was removed?); launch the run again for what the file defines now"
    }
