"""Two Stripe components in one Dagster project (a platform and a separate shop account, each with
its own key, API and warehouse): `dg check defs` and `dg list defs` load both, and one `dg launch`
materializes both, each from its own account into its own warehouse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from stripe_assets.dagster import Scope, StripeAssetData, StripeAssetsTranslator, StripeDefinitions, StripeParts
from stripe_assets.dagster import build_stripe_definitions as build
from stripe_assets.dataflows.config import validate_dataflows
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets_emulator import EmulatorConfig, start_emulator
from stripe_assets_tests.conftest import EMULATOR_DAYS, EMULATOR_START, day_window

PACKAGE = "two_accounts_project"
ACCOUNTS = ("platform", "shop")
DAY = "2026-10-02"

COMPONENTS = """\
import dagster as dg

from stripe_assets import StripeAssetData, StripeAssetsComponent, StripeAssetsTranslator


class Prefixed(StripeAssetsTranslator):
    def __init__(self, prefix: str):
        self.prefix = prefix

    def get_asset_spec(self, data: StripeAssetData) -> dg.AssetSpec:
        spec = super().get_asset_spec(data)
        return spec.replace_attributes(key=spec.key.with_prefix(self.prefix))


class PlatformStripe(StripeAssetsComponent):
    def get_translator(self) -> StripeAssetsTranslator:
        return Prefixed("platform")


class ShopStripe(StripeAssetsComponent):
    def get_translator(self) -> StripeAssetsTranslator:
        return Prefixed("shop")
"""


def make_project(root: Path, urls: dict[str, str], component: dict[str, str]) -> None:
    """Both components load the same dataflow names (so the same schedule names) and have the
    operations (rollback job) on; `component` names each one's class."""
    root.mkdir()
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "{PACKAGE}"\nversion = "0.1.0"\n\n'
        f'[tool.dg]\ndirectory_type = "project"\n\n[tool.dg.project]\nroot_module = "{PACKAGE}"\n'
    )
    package = root / PACKAGE
    for account in ACCOUNTS:
        folder = package / "defs" / account
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "defs.yaml").write_text(
            f"type: {component[account]}\n"
            "attributes:\n"
            f"  api_key_env: {account.upper()}_STRIPE_KEY\n"
            f"  api_base: {urls[account]}\n"
            f"  warehouse_path: data/{account}.duckdb\n"
            "  operations: true\n"
            "  dataflows:\n"
            "    - name: stripe_charges\n"
            "      resource: charges\n"
        )
    for folder in (package, package / "defs"):
        (folder / "__init__.py").write_text("")
    (package / "components.py").write_text(COMPONENTS)
    (package / "definitions.py").write_text(
        "from pathlib import Path\n\nimport dagster as dg\n\n\n@dg.definitions\ndef defs() -> dg.Definitions:\n"
        "    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)\n"
    )


def dg_command(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    venv = Path(sys.executable).parent
    return subprocess.run(
        [str(venv / "dg"), *args],
        cwd=root,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "DAGSTER_"))},
            "VIRTUAL_ENV": str(venv.parent),
            "PATH": f"{venv}{os.pathsep}{os.environ['PATH']}",
            "DAGSTER_DG_UPDATE_CHECK_ENABLED": "0",
            "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
            **env,
        },
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_two_components_load_together_and_each_reads_its_own_account_into_its_own_warehouse(tmp_path):
    configs = {
        "platform": EmulatorConfig(seed=21, start=EMULATOR_START, days=EMULATOR_DAYS, per_day=6, api_key="sk_test_pf"),
        "shop": EmulatorConfig(seed=22, start=EMULATOR_START, days=EMULATOR_DAYS, per_day=11, api_key="sk_test_sh"),
    }
    emulators = {account: start_emulator(config) for account, config in configs.items()}
    try:
        root = tmp_path / "two"
        make_project(
            root,
            {a: e.url for a, e in emulators.items()},
            {a: f"{PACKAGE}.components.{a.capitalize()}Stripe" for a in ACCOUNTS},
        )
        home = tmp_path / "home"
        home.mkdir()
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        env = {"DAGSTER_HOME": str(home), **{f"{a.upper()}_STRIPE_KEY": e.api_key for a, e in emulators.items()}}

        done = dg_command(root, env, "check", "defs")
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        done = dg_command(root, env, "list", "defs", "--json")
        assert done.returncode == 0, done.stderr[-3000:]
        listed = json.loads(done.stdout)
        assert {a["asset_key"] for a in listed["assets"]} == {"platform/stripe/charges", "shop/stripe/charges"}
        assert {r["name"] for r in listed["resources"]} == {
            f"stripe_{kind}_{a}" for kind in ("api", "warehouse") for a in ACCOUNTS
        }
        assert {s["name"] for s in listed["schedules"]} == {f"stripe_charges_schedule_{a}" for a in ACCOUNTS}
        assert {j["name"] for j in listed["jobs"]} >= {f"rollback_job_{a}" for a in ACCOUNTS}
        # It watches the whole instance: added once, by the first folder's component.
        assert [s["name"] for s in listed["sensors"]] == ["stripe_dead_runs"]

        # The review run in one component's folder names that component's schedules.
        done = subprocess.run(
            [sys.executable, "-m", "stripe_assets.cli", "dataflows", "--json"],
            cwd=root / PACKAGE / "defs" / "shop",
            env={**os.environ, **env, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        assert [d["dagster_schedule"] for d in json.loads(done.stdout)["dataflows"]] == ["stripe_charges_schedule_shop"]

        done = dg_command(
            root, env, "launch", "--assets", "platform/stripe/charges,shop/stripe/charges", "--partition", DAY
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        landed = {}
        for account, emulator in emulators.items():
            with Warehouse(root / "data" / f"{account}.duckdb").connect(read_only=True) as conn:
                rows = {r[0] for r in conn.execute("SELECT id FROM stripe.charges").fetchall()}
                rows |= {r[0] for r in conn.execute("SELECT DISTINCT id FROM stripe_quarantine.charges").fetchall()}
            truth = {o["id"] for o in emulator.objects("charges", *day_window(DAY))}
            assert truth and rows == truth, account
            landed[account] = rows
        assert landed["platform"] != landed["shop"]
    finally:
        for emulator in emulators.values():
            emulator.stop()


@pytest.mark.slow
def test_two_components_giving_one_asset_key_stop_dg_check_naming_the_key(tmp_path):
    """Without a translator both give `stripe/charges`."""
    root = tmp_path / "clash"
    plain = "stripe_assets.StripeAssetsComponent"
    make_project(root, dict.fromkeys(ACCOUNTS, "http://127.0.0.1:9"), dict.fromkeys(ACCOUNTS, plain))
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")

    done = dg_command(root, {"DAGSTER_HOME": str(home)}, "check", "defs")

    # Dagster's own error about the key, the one the translator (a prefix) resolves; not a clash
    # of resources or names the user did not write.
    assert done.returncode != 0
    said = done.stdout + done.stderr
    assert "Duplicate asset key: AssetKey(['stripe', 'charges'])" in said, said[-3000:]
    assert "stripe_api" not in said and "stripe_dead_runs" not in said


class _Prefixed(StripeAssetsTranslator):
    def __init__(self, prefix: str):
        self.prefix = prefix

    def get_asset_spec(self, data: StripeAssetData) -> dg.AssetSpec:
        return super().get_asset_spec(data).replace_attributes(key=data.spec.key.with_prefix(self.prefix))


def test_in_python_two_sets_of_definitions_with_their_own_scopes_merge():
    config = validate_dataflows({"dataflows": [{"name": "stripe_charges", "resource": "charges"}]}, "inline")

    def one(prefix: str) -> dg.Definitions:
        options = StripeDefinitions(
            reload=lambda: config,
            translator=_Prefixed(prefix),
            parts=StripeParts(operations=True),
            scope=Scope(f"_{prefix}"),
        )
        return build(options)

    merged = dg.Definitions.merge(one("eu"), one("us"))
    repo = merged.get_repository_def()
    assert set(merged.resources or {}) == {f"stripe_{k}_{p}" for k in ("api", "warehouse") for p in ("eu", "us")}
    assert {s.name for s in repo.schedule_defs} == {"stripe_charges_schedule_eu", "stripe_charges_schedule_us"}
    for prefix in ("eu", "us"):
        asset = merged.resolve_assets_def(dg.AssetKey([prefix, "stripe", "charges"]))
        assert asset.required_resource_keys - {"io_manager"} == {f"stripe_api_{prefix}", f"stripe_warehouse_{prefix}"}
    # Alone, the plain names users and the docs know.
    alone = build(StripeDefinitions(reload=lambda: config))
    assert set(alone.resources or {}) == {"stripe_api", "stripe_warehouse"}
