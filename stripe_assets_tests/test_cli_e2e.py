"""The real command lines users run: `dagster asset materialize` and `dagster dev`'s workspace."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import WorkspaceFileTarget

from stripe_assets.catalog import RESOURCE_NAMES
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets_tests.conftest import day_window

REPO = Path(__file__).resolve().parent.parent
DAGSTER = str(Path(sys.executable).with_name("dagster"))


@pytest.fixture
def cli_env(emulator, tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    # Create the instance's storage once, as a first `dagster dev` does; two processes creating
    # a fresh SQLite schema at the same instant race on it.
    monkeypatch.chdir(tmp_path)  # dagster.yaml's storage paths are relative to the working dir
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


@pytest.mark.slow
def test_two_concurrent_all_asset_cli_runs_over_a_partition_range_land_each_partition_once(cli_env, emulator):
    """Two identical runs at once: no lock errors, exact ids, and a run that finds its partitions
    loaded by the other since it started refuses to overwrite them, saying so in one line."""
    args = ("--select", "key:stripe/*", "--partition-range", "2026-10-02...2026-10-04")
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: materialize_cli(cli_env, *args), range(2)))
    for run in runs:
        assert "Could not set lock" not in run.stderr
        if run.returncode != 0:
            assert "not overwriting the newer load" in run.stderr, run.stderr[-3000:]
    start, _ = day_window("2026-10-02")
    _, end = day_window("2026-10-04")
    for resource in RESOURCE_NAMES:
        ids = table_id_list(cli_env["STRIPE_ASSETS_DUCKDB_PATH"], resource)
        assert len(ids) == len(set(ids)), f"{resource}: an id landed twice"
        assert set(ids) == set(emulator.listable_ids(resource, start, end))
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(cli_env["DAGSTER_HOME"])) as instance:
        finished = instance.get_runs()
        assert len(finished) == 2
        assert all(r.status in (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE) for r in finished)


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
    assert keys == sorted(f"stripe/{r}" for r in RESOURCE_NAMES)
    assert schedules == {f"stripe_{r}_schedule" for r in RESOURCE_NAMES}
