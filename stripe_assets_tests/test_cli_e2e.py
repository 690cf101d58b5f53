"""The real command lines users run: `dagster asset materialize` and `dagster dev`'s workspace."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import cast

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import WorkspaceFileTarget

from stripe_assets.catalog import RESOURCE_NAMES, get_resource
from stripe_assets.catalog.child import child_of
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets.models import MODELS
from stripe_assets_tests.conftest import day_window
from stripe_assets_tests.processes import run_together, work_deadline

REPO = Path(__file__).resolve().parent.parent
DAGSTER = str(Path(sys.executable).with_name("dagster"))


@pytest.fixture
def cli_env(emulator, tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    # Create the instance's storage once, as a first `dagster dev` does; two processes creating
    # a fresh SQLite schema at the same instant race on it.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(home))  # dagster.yaml's storage lives in $DAGSTER_HOME
    dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))).dispose()
    return {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "STRIPE_API_KEY": emulator.api_key,
        "STRIPE_API_BASE": emulator.url,
        "STRIPE_ASSETS_DUCKDB_PATH": str(tmp_path / "stripe.duckdb"),
        "STRIPE_ASSETS_DATAFLOWS": str(REPO / "dataflows.yaml"),
    }


def materialize_cli(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [DAGSTER, "asset", "materialize", "-m", "stripe_assets.definitions", *args],
        env=env, cwd=Path(env["DAGSTER_HOME"]).parent, capture_output=True, text=True, timeout=300,
    )


def table_id_list(path: str, resource: str) -> list[str]:
    with Warehouse(path).connect(read_only=True) as conn:
        return [r[0] for r in conn.execute(f"SELECT id FROM stripe.{resource}").fetchall()]


# Overlapping ranges: the shared days are what two runs of the same range race for, and the day
# only one run reads must land too.
OVERLAPPING = ("2026-10-01...2026-10-04", "2026-10-02...2026-10-04")


def _days(partition_range: str) -> list[str]:
    first, last = (date.fromisoformat(d) for d in partition_range.split("..."))
    return [str(first + timedelta(days=n)) for n in range((last - first).days + 1)]


@pytest.mark.slow
def test_two_concurrent_all_asset_cli_runs_both_succeed_and_land_every_day_once(cli_env, emulator, tmp_path):
    """Two runs at once over shared days: no lock errors, both succeed, every day of either range
    lands for every resource with exact ids; a day the other run wrote meanwhile with a fetch at
    least as new is set aside, and the run says to which run it left it."""
    ranges = OVERLAPPING
    days = sum(len(_days(r)) for r in ranges)
    runs = run_together(
        [[DAGSTER, "asset", "materialize", "-m", "stripe_assets.definitions", "--select", "key:stripe/*",
          "--partition-range", r] for r in ranges],
        deadline_seconds=work_deadline(processes=len(ranges), asset_partitions=days * len(RESOURCE_NAMES)),
        log_dir=tmp_path / "runs", cwd=tmp_path, env=cli_env,
    )  # fmt: skip
    for run in runs:
        assert "Could not set lock" not in run.output
        assert run.returncode == 0, run.output[-3000:]
    start, _ = day_window(min(r.split("...")[0] for r in ranges))
    _, end = day_window("2026-10-04")
    for resource in RESOURCE_NAMES:
        ids = table_id_list(cli_env["STRIPE_ASSETS_DUCKDB_PATH"], resource)
        assert len(ids) == len(set(ids)), f"{resource}: an id landed twice"
        child = child_of(get_resource(resource))
        if child is None:
            assert set(ids) == set(emulator.listable_ids(resource, start, end)), resource
            continue
        # A child list lands under the parents of the same days: every row names a loaded parent.
        with Warehouse(Path(cli_env["STRIPE_ASSETS_DUCKDB_PATH"])).connect(read_only=True) as conn:
            [(orphans,)] = conn.execute(
                f"SELECT count(*) FROM {get_resource(resource).table} WHERE {child.parent_column}"
                f" NOT IN (SELECT id FROM {get_resource(child.parent).table})"
            ).fetchall()
        assert orphans == 0, resource
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(cli_env["DAGSTER_HOME"])) as instance:
        finished = instance.get_runs()
        assert [r.status for r in finished] == [dg.DagsterRunStatus.SUCCESS] * 2
        left = _left_to_newer_runs(instance, {r.run_id for r in finished})
        # What each run's log says (as the UI shows it).
        said = {
            r.run_id: "\n".join(e.user_message for e in instance.all_logs(r.run_id) if e.user_message)
            for r in finished
        }
    # Whatever a run set aside, the other run holds: a day never lands twice, nor is it lost.
    for (run_id, resource), days in left.items():
        (other,) = {r.run_id for r in finished} - {run_id}
        assert set(days.values()) == {other}, (resource, days)
        loaded = {
            row[0] for row in _query(
                cli_env["STRIPE_ASSETS_DUCKDB_PATH"],
                "SELECT partition FROM stripe_meta.loads WHERE resource = ? AND run_id = ? AND status = 'loaded'",
                [resource, other],
            )
        }  # fmt: skip
        assert set(days) <= loaded, (resource, days, loaded)
        assert f"{resource}: a newer run wrote these partitions" in said[run_id], (resource, days)


def _left_to_newer_runs(instance: dg.DagsterInstance, run_ids: set[str]) -> dict[tuple[str, str], dict[str, str]]:
    """(run, resource) -> the `partitions_left_to_newer_runs` of its summary check result."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    for run_id in run_ids:
        for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
            event = record.dagster_event
            evaluation = event.event_specific_data if event is not None else None
            assert isinstance(evaluation, dg.AssetCheckEvaluation)
            value = evaluation.metadata.get("partitions_left_to_newer_runs")
            if value is not None and evaluation.partition is None:
                found[(run_id, evaluation.asset_key.path[-1])] = cast(dict[str, str], value.value)
    return found


def _query(path: str, sql: str, params: list) -> list[tuple]:
    with Warehouse(path).connect(read_only=True) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--partition", "1999-01-01"), "partition '1999-01-01' is before the first partition "),
        (("--partition", "2026-13-01"), "partition '2026-13-01' is not a partition key of dataflow 'stripe_charges'"),
        (("--partition-range", "2026-10-01...2026-10-40"), "partition '2026-10-40' is not a partition key"),
        ((), "the selected assets are partitioned: add --partition KEY (e.g. "),
    ],
)
def test_a_wrong_or_missing_partition_key_is_one_line_of_ours(cli_env, args, expected):
    run = materialize_cli(cli_env, "--select", "key:stripe/charges", *args)
    assert run.returncode == 2
    [line] = [x for x in run.stderr.splitlines() if "SupersessionWarning" not in x and "return callback(" not in x]
    assert line.startswith("stripe-assets: " + expected), run.stderr[-2000:]
    assert not Path(cli_env["STRIPE_ASSETS_DUCKDB_PATH"]).exists()


@pytest.mark.slow
def test_materializing_an_asset_whose_dataflow_was_removed_is_one_line_naming_it(cli_env, tmp_path):
    flows = tmp_path / "dataflows.yaml"
    flows.write_text("dataflows:\n  - name: stripe_charges\n    resource: charges\n")
    env = {**cli_env, "STRIPE_ASSETS_DATAFLOWS": str(flows)}
    run = materialize_cli(env, "--select", "key:stripe/refunds", "--partition", "2026-10-02")
    assert run.returncode == 2
    [line] = [x for x in run.stderr.splitlines() if "SupersessionWarning" not in x and "return callback(" not in x]
    assert line == (
        "stripe-assets: asset stripe/refunds is not defined: no dataflow in the dataflows file loads refunds "
        "(removed?); add one back to load it, or `stripe-assets delete refunds --drop-data` drops the data it left"
    ), run.stderr[-2000:]


@pytest.mark.slow
def test_the_workspace_loads_as_dagster_dev_loads_it(stripe_env):
    with dg.instance_for_test() as instance:
        target = WorkspaceFileTarget(paths=[str(REPO / "workspace.yaml")])
        cwd = os.getcwd()
        os.chdir(REPO)  # workspace.yaml's working_directory is relative, as `dagster dev` sees it
        try:
            with WorkspaceProcessContext(instance, target) as context:
                request = context.create_request_context()
                assert request.get_code_location_error("stripe_assets") is None
                [repo] = request.get_code_location("stripe_assets").get_repositories().values()
                keys = sorted(n.asset_key.to_user_string() for n in repo.get_asset_node_snaps())
                schedules = {s.name for s in repo.get_schedules()}
        finally:
            os.chdir(cwd)
    assert [k for k in keys if k.startswith("stripe/")] == sorted(f"stripe/{r}" for r in RESOURCE_NAMES)
    assert [k for k in keys if not k.startswith("stripe/")] == sorted(f"stripe_models/{m.name}" for m in MODELS)
    assert schedules == {f"stripe_{r}_schedule" for r in RESOURCE_NAMES}
