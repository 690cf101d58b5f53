"""`rollback_job`: the rollback launched from Dagster, with typed config."""

from __future__ import annotations

import dagster as dg

from stripe_assets.dagster.resources import WarehouseResource
from stripe_assets.dagster.rollback import JOB_NAME, build_rollback_job


def run_job(project, **config) -> dg.ExecuteInProcessResult:
    with project.instance() as instance:
        return build_rollback_job().execute_in_process(
            run_config={"ops": {"rollback_loads": {"config": config}}},
            instance=instance,
            resources={"stripe_warehouse": WarehouseResource(duckdb_path=str(project.duckdb))},
            raise_on_error=False,
        )


def test_the_job_rolls_back_like_the_command_and_leaves_a_trace_on_the_asset(project, three_versions):
    (run_a, after_a), (run_b, _) = three_versions["A"], three_versions["B"]

    result = run_job(project, resource="charges", run_id=run_b, steps=None, partition="")

    assert result.success
    assert project.rows("charges") == after_a
    with project.instance() as instance:
        latest = instance.get_latest_materialization_event(dg.AssetKey(["stripe", "charges"]))
    assert latest is not None and latest.run_id == result.run_id
    rollback = latest.asset_materialization
    assert rollback.partition == "2026-10-03"
    assert rollback.metadata["rolled_back_to"].value == run_a
    assert rollback.metadata["rolled_back_runs"].value == f"{three_versions['C'][0]}, {run_b}"


def test_a_bad_request_fails_the_run_with_one_line(project, three_versions):
    current = project.rows("charges")

    result = run_job(project, resource="charges", steps=9)

    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert failure.step_failure_data.user_failure_data.description == (
        "rollback of charges: charges has 3 runs whose loads can be rolled back, not 9"
    )
    assert project.rows("charges") == current


def test_the_job_is_part_of_the_code_location():
    from stripe_assets.definitions import defs

    job = defs().get_job_def(JOB_NAME)
    assert job.name == JOB_NAME
