"""Commands run in a Dagster project read its Stripe component's settings, not the environment's:
`alerts test` sends through the component's channels, and `preview` and `reconcile` name the
component's key variable when it is unset."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from stripe_assets.alerts.alert_log import read_records
from stripe_assets.settings import API_KEY_ENV, DATAFLOWS_ENV, DUCKDB_PATH_ENV

PACKAGE = "platform_stripe_project"
KEY_ENV = "PLATFORM_STRIPE_KEY"

pytestmark = pytest.mark.slow  # each command is a process of its own, loading the project


def make_project(root: Path, attributes: str) -> Path:
    """A project whose one component sits in defs/platform; returns that folder."""
    folder = root / PACKAGE / "defs" / "platform"
    folder.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "{PACKAGE}"\nversion = "0.1.0"\n\n'
        f'[tool.dg]\ndirectory_type = "project"\n\n[tool.dg.project]\nroot_module = "{PACKAGE}"\n'
    )
    for package in (root / PACKAGE, root / PACKAGE / "defs"):
        (package / "__init__.py").write_text("")
    (folder / "defs.yaml").write_text(
        "type: stripe_assets.StripeAssetsComponent\nattributes:\n" + textwrap.indent(attributes, "  ")
    )
    return folder


def cli(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    home = root / "dagster_home"
    home.mkdir(exist_ok=True)
    base = {k: v for k, v in os.environ.items() if k not in (DUCKDB_PATH_ENV, DATAFLOWS_ENV, API_KEY_ENV, KEY_ENV)}
    return subprocess.run(
        [sys.executable, "-m", "stripe_assets.cli", *args],
        env={
            **base,
            "DAGSTER_HOME": str(home),
            "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
            **env,
        },
        cwd=root,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )


def log_channel_dataflows(name: str, log: Path) -> dict:
    return {
        "channels": {"log": {"type": "log", "path": str(log)}},
        "dataflows": [{"name": name, "resource": "charges", "alerts": {"send": ["failure"], "channels": ["log"]}}],
    }


def test_alerts_test_sends_through_the_components_channels_not_the_environments_file(tmp_path):
    component_log, env_log = tmp_path / "component.jsonl", tmp_path / "env.jsonl"
    # The environment names a file with the same dataflow alerting elsewhere: the component wins.
    env_file = tmp_path / "env-dataflows.yaml"
    env_file.write_text(yaml.safe_dump(log_channel_dataflows("platform_charges", env_log)))
    folder = make_project(tmp_path, "dataflows_file: dataflows.yaml\n")
    (folder / "dataflows.yaml").write_text(yaml.safe_dump(log_channel_dataflows("platform_charges", component_log)))

    done = cli(tmp_path, {DATAFLOWS_ENV: str(env_file)}, "alerts", "test", "platform_charges")

    assert done.returncode == 0, done.stderr
    assert "ok      log (log)" in done.stdout
    assert [r["record"] for r in read_records(component_log)].count("alert") == 1
    assert not env_log.exists()

    # A file on the command line still comes first.
    done = cli(tmp_path, {DATAFLOWS_ENV: str(env_file)}, "alerts", "test", "platform_charges", "--file", str(env_file))
    assert done.returncode == 0, done.stderr
    assert [r["record"] for r in read_records(env_log)].count("alert") == 1


def test_preview_and_reconcile_name_the_components_unset_key_variable(tmp_path):
    make_project(tmp_path, f"api_key_env: {KEY_ENV}\napi_base: http://127.0.0.1:9\nwarehouse_path: data/p.duckdb\n")
    # The default variable is set: the component's runs would not read it, nor may the commands.
    env = {API_KEY_ENV: "sk_test_not_this_one"}
    for command in (["preview", "charges"], ["reconcile"]):
        done = cli(tmp_path, env, *command)
        assert done.returncode == 1, done.stdout
        line = done.stderr.strip()
        assert "\n" not in line
        expected = f"stripe-assets {command[0]}: {KEY_ENV} is not set (the api_key_env of the Stripe component in "
        assert line.startswith(expected), line
        assert API_KEY_ENV not in line
