"""The operations commands in a project whose translator moves the asset keys: `stripe-assets
status`, `runs` and `rollback` read and record that project's runs under its keys."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import dagster as dg

from stripe_assets.operations.asset_keys import project_asset_keys
from stripe_assets_tests.operations.harness import DATAFLOWS

PACKAGE = "finance_stripe_project"  # the temporary project's own package
KEY = dg.AssetKey(["finance", "stripe", "charges"])

COMPONENT = '''\
import dagster as dg

from stripe_assets import StripeAssetData, StripeAssetsComponent, StripeAssetsTranslator


class FinanceTranslator(StripeAssetsTranslator):
    def get_asset_spec(self, data: StripeAssetData) -> dg.AssetSpec:
        spec = super().get_asset_spec(data)
        # The factory's tags go too: the operations must still find the asset.
        return spec.replace_attributes(key=spec.key.with_prefix("finance"), tags={"team": "finance"})


class FinanceComponent(StripeAssetsComponent):
    def get_translator(self) -> StripeAssetsTranslator:
        return FinanceTranslator()
'''

# As `create-dagster project` writes it: where `dg launch` finds the project's definitions.
DEFINITIONS = """\
from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
"""


def make_project(root: Path, emulator, dataflows: str = DATAFLOWS) -> dict[str, str]:
    """A Dagster project with the component and its translator; the environment its commands run in."""
    package = root / PACKAGE
    defs = package / "defs" / "stripe"
    defs.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "{PACKAGE}"\nversion = "0.1.0"\n\n'
        f'[tool.dg]\ndirectory_type = "project"\n\n[tool.dg.project]\nroot_module = "{PACKAGE}"\n'
    )
    (package / "__init__.py").write_text("")
    (package / "defs" / "__init__.py").write_text("")
    (package / "components.py").write_text(COMPONENT)
    (package / "definitions.py").write_text(DEFINITIONS)
    (defs / "dataflows.yaml").write_text(dataflows)
    (defs / "defs.yaml").write_text(
        textwrap.dedent(
            f"""\
            type: {PACKAGE}.components.FinanceComponent
            attributes:
              dataflows_file: dataflows.yaml
              api_key_env: STRIPE_API_KEY
              api_base: {emulator.url}
              warehouse_path: data/stripe.duckdb
              operations: true
            """
        )
    )
    home = root / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return {
        "STRIPE_API_KEY": emulator.api_key,
        "STRIPE_ASSETS_DUCKDB_PATH": str(root / "data" / "stripe.duckdb"),
        "STRIPE_ASSETS_DATAFLOWS": str(defs / "dataflows.yaml"),
        "DAGSTER_HOME": str(home),
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }


def cli(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """`stripe-assets <args>` run in the project folder, as its user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "stripe_assets.cli", *args],
        env={**os.environ, **env},
        cwd=root,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_status_runs_and_rollback_follow_the_keys_of_the_projects_translator(tmp_path, emulator, monkeypatch):
    root = tmp_path / "finance"
    env = make_project(root, emulator)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.syspath_prepend(str(root))

    defs = dg.load_from_defs_folder(path_within_project=root)
    keys = defs.resolve_all_asset_keys()
    assert KEY in keys and dg.AssetKey(["stripe", "charges"]) not in keys
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        result = dg.materialize([defs.resolve_assets_def(KEY)], instance=instance, partition_key="2026-10-03")
    assert result.success
    assert project_asset_keys(root)("charges") == KEY

    done = cli(root, env, "status", "--json")
    assert done.returncode == 0, done.stderr
    status = {s["dataflow"]: s for s in json.loads(done.stdout)["dataflows"]}
    assert status["stripe_charges"]["last_run_status"] == "SUCCESS"
    assert status["stripe_prices"]["last_run_status"] is None

    done = cli(root, env, "runs", "stripe_charges", "--json")
    assert done.returncode == 0, done.stderr
    runs = json.loads(done.stdout)
    assert runs["asset"] == "finance/stripe/charges"
    assert [(r["run_id"], r["status"], r["partitions"]) for r in runs["runs"]] == [
        (result.run_id, "SUCCESS", ["2026-10-03"])
    ]
    assert runs["runs"][0]["records_per_second"] > 0  # read from the run's materialization of the asset

    done = cli(root, env, "rollback", "charges", "--yes")
    assert done.returncode == 0, done.stderr
    assert "Recorded in Dagster: 1 materialization(s) of charges (asset finance/stripe/charges)" in done.stdout
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        newest = instance.get_latest_materialization_event(KEY)
        assert newest is not None and newest.asset_materialization is not None
        assert newest.asset_materialization.metadata["rolled_back_runs"].value == result.run_id
        assert instance.get_latest_materialization_event(dg.AssetKey(["stripe", "charges"])) is None

        # `rollback_job` of the same definitions records under the translated key too.
        again = dg.materialize([defs.resolve_assets_def(KEY)], instance=instance, partition_key="2026-10-03")
        job = defs.resolve_job_def("rollback_job").execute_in_process(
            run_config={"ops": {"rollback_loads": {"config": {"resource": "charges", "run_id": again.run_id}}}},
            instance=instance,
        )
        assert job.success
        newest = instance.get_latest_materialization_event(KEY)
        assert newest is not None and newest.run_id == job.run_id
        assert newest.asset_materialization is not None
        assert newest.asset_materialization.metadata["rolled_back_runs"].value == again.run_id


def test_outside_a_project_and_in_a_project_that_does_not_load_the_catalogs_keys_apply(tmp_path):
    assert project_asset_keys(tmp_path)("charges") == dg.AssetKey(["stripe", "charges"])
    (tmp_path / "pyproject.toml").write_text(
        '[tool.dg]\ndirectory_type = "project"\n\n[tool.dg.project]\nroot_module = "no_such_module_here"\n'
    )
    keys = project_asset_keys(tmp_path / "sub")
    assert keys("charges") == dg.AssetKey(["stripe", "charges"])
    assert keys.problem is not None and keys.problem.startswith(f"the Dagster project at {tmp_path} did not load (")
    assert "\n" not in keys.problem
