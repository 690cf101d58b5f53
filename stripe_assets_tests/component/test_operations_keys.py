"""The operations commands in a project whose component names its warehouse and dataflows file and
whose translator moves the asset keys: `stripe-assets status`, `runs` and `rollback` read that
warehouse and those dataflows, and read and record the project's runs under its keys, with no
variable set for them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import dagster as dg

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets.ingest.warehouse.loads import count_rows
from stripe_assets.operations.project import load_project
from stripe_assets.settings import DATAFLOWS_ENV, DUCKDB_PATH_ENV
from stripe_assets_tests.operations.harness import DATAFLOWS

PACKAGE = "finance_stripe_project"  # the temporary project's own package
KEY = dg.AssetKey(["finance", "stripe", "charges"])
# Names only the component's dataflows file has (the built-in defaults say stripe_charges).
COMPONENT_DATAFLOWS = DATAFLOWS.replace("name: stripe_", "name: finance_")

COMPONENT = '''\
import os

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

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        with open(os.environ["FINANCE_BUILDS_LOG"], "a") as log:  # how often the project is loaded
            log.write("built\\n")
        return super().build_defs(context)
'''

# As `create-dagster project` writes it: where `dg launch` finds the project's definitions.
DEFINITIONS = """\
from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
"""


def make_project(root: Path, emulator, dataflows: str = COMPONENT_DATAFLOWS) -> dict[str, str]:
    """A Dagster project with the component and its translator; the environment its commands run
    in, which names neither the warehouse nor the dataflows file: the component does."""
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
        "DAGSTER_HOME": str(home),
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
        "FINANCE_BUILDS_LOG": str(root / "builds.log"),
    }


def builds(env: dict[str, str]) -> int:
    """How many times the project's definitions were built so far."""
    return len(Path(env["FINANCE_BUILDS_LOG"]).read_text().splitlines())


def charge_rows(warehouse: Warehouse) -> int | None:
    with warehouse.connect(read_only=True) as conn:
        return count_rows(conn, get_resource("charges").table)


def cli(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """`stripe-assets <args>` run in the project folder, as its user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "stripe_assets.cli", *args],
        env={**{k: v for k, v in os.environ.items() if k not in (DUCKDB_PATH_ENV, DATAFLOWS_ENV)}, **env},
        cwd=root,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_status_runs_and_rollback_read_the_components_warehouse_and_dataflows_under_its_keys(
    tmp_path, emulator, monkeypatch
):
    root = tmp_path / "finance"
    env = make_project(root, emulator)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in (DUCKDB_PATH_ENV, DATAFLOWS_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.syspath_prepend(str(root))
    warehouse = Warehouse(root / "data" / "stripe.duckdb")  # the component's `warehouse_path`

    defs = dg.load_from_defs_folder(path_within_project=root)
    keys = defs.resolve_all_asset_keys()
    assert KEY in keys and dg.AssetKey(["stripe", "charges"]) not in keys
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        result = dg.materialize([defs.resolve_assets_def(KEY)], instance=instance, partition_key="2026-10-03")
    assert result.success
    loaded = charge_rows(warehouse)
    assert loaded
    assert load_project(root).keys("charges") == KEY

    before = builds(env)
    done = cli(root, env, "status", "--json")
    assert done.returncode == 0, done.stderr
    assert builds(env) == before + 1  # loaded once for the warehouse, the dataflows and the keys
    status = {s["dataflow"]: s for s in json.loads(done.stdout)["dataflows"]}
    assert set(status) == {"finance_charges", "finance_prices"}
    assert status["finance_charges"]["last_run_status"] == "SUCCESS"
    assert status["finance_charges"]["rows"] == loaded
    assert status["finance_charges"]["last_refresh_partition"] == "2026-10-03"
    assert status["finance_prices"]["last_run_status"] is None

    done = cli(root, env, "dataflows", "--validate")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{root / PACKAGE / 'defs' / 'stripe' / 'dataflows.yaml'}: OK (2 dataflows)"
    # The review names each dataflow's asset as the translator made it.
    done = cli(root, env, "dataflows", "--json")
    assert done.returncode == 0, done.stderr
    assets = {d["name"]: d["asset"] for d in json.loads(done.stdout)["dataflows"]}
    assert assets == {"finance_charges": "finance/stripe/charges", "finance_prices": "finance/stripe/prices"}
    done = cli(root, env, "dataflows")
    assert done.returncode == 0, done.stderr
    assert "→ asset finance/stripe/charges in group" in done.stdout and "asset stripe/" not in done.stdout
    done = cli(root, env, "summary", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["warehouse"] == str(warehouse)
    assert [(t["resource"], t["rows"]) for t in summary["tables"]] == [("charges", loaded)]

    done = cli(root, env, "runs", "finance_charges", "--json")
    assert done.returncode == 0, done.stderr
    runs = json.loads(done.stdout)
    assert runs["asset"] == "finance/stripe/charges"
    assert [(r["run_id"], r["status"], r["partitions"]) for r in runs["runs"]] == [
        (result.run_id, "SUCCESS", ["2026-10-03"])
    ]
    assert runs["runs"][0]["records_per_second"] > 0  # read from the run's materialization of the asset
    assert runs["runs"][0]["records_loaded"] == loaded  # from the component's warehouse's load log

    done = cli(root, env, "rollback", "charges", "--yes")
    assert done.returncode == 0, done.stderr
    assert "Recorded in Dagster: 1 materialization(s) of charges (asset finance/stripe/charges)" in done.stdout
    assert charge_rows(warehouse) == 0

    # As in the component's runs, the variables do not point the commands away from its settings.
    decoys = {DUCKDB_PATH_ENV: str(tmp_path / "other.duckdb"), DATAFLOWS_ENV: str(tmp_path / "other.yaml")}
    done = cli(root, {**env, **decoys}, "status", "--json")
    assert done.returncode == 0, done.stderr
    status = {s["dataflow"]: s for s in json.loads(done.stdout)["dataflows"]}
    assert set(status) == {"finance_charges", "finance_prices"} and status["finance_charges"]["rows"] == 0
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
    assert load_project(tmp_path).keys("charges") == dg.AssetKey(["stripe", "charges"])
    (tmp_path / "pyproject.toml").write_text(
        '[tool.dg]\ndirectory_type = "project"\n\n[tool.dg.project]\nroot_module = "no_such_module_here"\n'
    )
    project = load_project(tmp_path / "sub")
    assert project.keys("charges") == dg.AssetKey(["stripe", "charges"])
    assert project.problem is not None
    assert project.problem.startswith(f"the Dagster project at {tmp_path} did not load (")
    assert "\n" not in project.problem


def test_a_project_with_two_stripe_components_is_read_from_the_folder_of_one_of_them(tmp_path):
    root = tmp_path / "two"
    package = root / "two_stripe_project"
    for region in ("eu", "us"):
        folder = package / "defs" / region
        folder.mkdir(parents=True)
        (folder / "defs.yaml").write_text(
            "type: stripe_assets.StripeAssetsComponent\nattributes:\n"
            f"  warehouse_path: data/{region}.duckdb\n"
            f"  dataflows:\n    - name: {region}_charges\n      resource: charges\n"
        )
    (root / "pyproject.toml").write_text(
        '[project]\nname = "two_stripe_project"\nversion = "0.1.0"\n\n'
        '[tool.dg]\ndirectory_type = "project"\n\n[tool.dg.project]\nroot_module = "two_stripe_project"\n'
    )
    for folder in (package, package / "defs"):
        (folder / "__init__.py").write_text("")
    home = root / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {"DAGSTER_HOME": str(home), "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}

    done = cli(root, env, "status")
    assert done.returncode == 2 and done.stdout == ""
    line = done.stderr.strip()
    assert "\n" not in line
    assert line.startswith(f"stripe-assets status: the Dagster project at {root} has 2 Stripe components: ")
    for region in ("eu", "us"):
        assert f"two_stripe_project/defs/{region} (warehouse {root / 'data' / f'{region}.duckdb'})" in line
    assert line.endswith("; run the command in the folder of the one you mean")

    done = cli(package / "defs" / "eu", env, "status", "--json")
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    assert [s["dataflow"] for s in status["dataflows"]] == ["eu_charges"]
    assert f"no warehouse at {root / 'data' / 'eu.duckdb'} yet: nothing loaded" in status["notes"]
    assert not any("did not load" in note for note in status["notes"])
