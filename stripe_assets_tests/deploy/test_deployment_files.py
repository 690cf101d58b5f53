"""The deployment files (deploy/) match the code: module, environment contract, ports, limits."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml

from stripe_assets import settings as settings_module
from stripe_assets.dataflows.schedules import DATAFLOW_TAG
from stripe_assets.ingest.warehouse import object_store

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
CONTRACT = {
    getattr(settings_module, name)
    for name in dir(settings_module)
    if name.endswith("_ENV") and isinstance(getattr(settings_module, name), str)
}
PG_VARS = {"DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USERNAME", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB"}


def _yaml(relative: str) -> dict:
    return yaml.safe_load((DEPLOY / relative).read_text())


def _module_name() -> str:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["dagster"]["module_name"]


def _option(argv: list[str], *names: str) -> str:
    for i, arg in enumerate(argv):
        if arg in names:
            return argv[i + 1]
    raise AssertionError(f"none of {names} in {argv}")


def _dockerfile() -> tuple[list[str], int, dict[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text()

    def line(pattern: str) -> str:
        found = re.search(pattern, text, re.M)
        assert found, f"the Dockerfile has no line matching {pattern}"
        return found.group(1)

    cmd = yaml.safe_load(line(r"^CMD (\[.*\])$"))  # exec form is JSON
    exposed = int(line(r"^EXPOSE (\d+)$"))
    env_block = line(r"^ENV ((?:.*\\\n)*.*)$").replace("\\\n", " ")
    env = dict(item.split("=", 1) for item in shlex.split(env_block))
    return cmd, exposed, env


def test_the_contract_is_the_settings_variables():
    assert CONTRACT == {
        "STRIPE_API_KEY", "STRIPE_API_BASE", "STRIPE_ASSETS_DUCKDB_PATH", "STRIPE_ASSETS_DATAFLOWS",
        "STRIPE_ASSETS_WAREHOUSE", "STRIPE_ASSETS_LAKE_DATA_PATH",
    }


def test_every_file_serves_the_real_module_under_the_location_name():
    module = _module_name()
    __import__(module)  # it exists and imports
    cmd, _, _ = _dockerfile()
    compose_cmd = _yaml("docker-compose.yaml")["services"]["stripe_assets_code"]["command"]
    helm_args = _yaml("helm/values.yaml")["dagster-user-deployments"]["deployments"][0]["dagsterApiGrpcArgs"]
    for argv in (cmd, compose_cmd, helm_args):
        assert _option(argv, "--module-name", "-m") == module
        assert _option(argv, "--location-name") == "stripe_assets"
    workspace = _yaml("docker/workspace.yaml")["load_from"][0]["grpc_server"]
    assert workspace["location_name"] == "stripe_assets"


def test_ports_agree_between_image_compose_workspace_and_chart():
    cmd, exposed, _ = _dockerfile()
    compose = _yaml("docker-compose.yaml")["services"]
    code_port = int(_option(cmd, "--port", "-p"))
    assert exposed == code_port
    assert int(_option(compose["stripe_assets_code"]["command"], "--port", "-p")) == code_port
    grpc = _yaml("docker/workspace.yaml")["load_from"][0]["grpc_server"]
    assert grpc["host"] == "stripe_assets_code" and grpc["port"] == code_port
    assert _yaml("helm/values.yaml")["dagster-user-deployments"]["deployments"][0]["port"] == code_port
    web = compose["webserver"]
    published, target = web["ports"][0].split(":")
    assert int(target) == int(_option(web["command"], "--port", "-p")) == 3000 == int(published)


def test_the_environment_contract_reaches_the_code_and_the_runs():
    compose = _yaml("docker-compose.yaml")
    env = compose["x-dagster-env"]
    named = {k for k in env if k.startswith("STRIPE_")}
    assert named <= CONTRACT
    assert {"STRIPE_ASSETS_WAREHOUSE", "STRIPE_ASSETS_LAKE_DATA_PATH", "STRIPE_ASSETS_DATAFLOWS"} <= named
    assert env["STRIPE_ASSETS_WAREHOUSE"].startswith("ducklake:postgres:")
    # The key is a secret: from the env file (git-ignored), never written in the committed files.
    for service in ("stripe_assets_code", "webserver", "daemon"):
        assert compose["services"][service]["env_file"] == "stripe-assets.env"
    assert "/deploy/stripe-assets.env" in (REPO / ".gitignore").read_text().splitlines()
    example = (DEPLOY / "stripe-assets.env.example").read_text()
    assert "STRIPE_API_KEY=" in example and "DAGSTER_PG_PASSWORD=" in example
    for path in (DEPLOY / "docker-compose.yaml", DEPLOY / "helm" / "values.yaml", DEPLOY / "Dockerfile"):
        assert not re.search(r"STRIPE_API_KEY\s*[:=]\s*\S", path.read_text().split("kubectl create secret")[0]), path

    launcher = _yaml("docker/dagster.yaml")["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_docker", "DockerRunLauncher")
    passed = set(launcher["config"]["env_vars"])
    assert (CONTRACT - {"STRIPE_ASSETS_DUCKDB_PATH"}) | PG_VARS <= passed
    assert launcher["config"]["network"] == compose["networks"]["stripe_assets"]["name"]
    volume, mount = launcher["config"]["container_kwargs"]["volumes"][0].split(":")
    assert compose["volumes"]["stripe_assets_lake"]["name"] == volume
    assert mount == env["STRIPE_ASSETS_LAKE_DATA_PATH"]

    _, _, image_env = _dockerfile()
    assert set(image_env) - {"DAGSTER_HOME"} <= CONTRACT and "STRIPE_API_KEY" not in image_env

    deployment = _yaml("helm/values.yaml")["dagster-user-deployments"]["deployments"][0]
    helm_env = {e["name"]: e["value"] for e in deployment["env"]}
    assert set(helm_env) <= CONTRACT | set(object_store.ENVIRONMENT)
    wanted = {"STRIPE_API_BASE", "STRIPE_ASSETS_WAREHOUSE", "STRIPE_ASSETS_LAKE_DATA_PATH", "STRIPE_ASSETS_DATAFLOWS"}
    assert wanted <= set(helm_env)
    assert "STRIPE_API_KEY" not in helm_env and deployment["envSecrets"]
    assert deployment["includeConfigInLaunchedRuns"]["enabled"] is True
    mounted = {m["mountPath"] for m in deployment["volumeMounts"]}
    assert str(Path(helm_env["STRIPE_ASSETS_DATAFLOWS"]).parent) in mounted


def test_the_chart_keeps_the_lake_on_s3_with_the_credentials_from_the_secret():
    """Every run job reaches the same data files: on object storage, the standard AWS variables
    (the key pair from the `stripe-assets` secret, never in the values)."""
    values_text = (DEPLOY / "helm" / "values.yaml").read_text()
    deployment = yaml.safe_load(values_text)["dagster-user-deployments"]["deployments"][0]
    helm_env = {e["name"]: e["value"] for e in deployment["env"]}
    assert object_store.is_object_store(helm_env["STRIPE_ASSETS_LAKE_DATA_PATH"])
    assert set(object_store.REGION_ENVS) & set(helm_env)
    assert not {*object_store.SECRET_VARIABLES, object_store.KEY_ID_ENV} & set(helm_env)
    secret = {s["name"] for s in deployment["envSecrets"]}
    assert yaml.safe_load(values_text)["runLauncher"]["config"]["k8sRunLauncher"]["envSecrets"] == [
        {"name": name} for name in sorted(secret)
    ]
    created = values_text.split("kubectl create secret generic stripe-assets", 1)[1].split("kubectl", 1)[0]
    for name in (object_store.KEY_ID_ENV, object_store.SECRET_ENV, "STRIPE_API_KEY", "PGPASSWORD"):
        assert f"--from-literal={name}=" in created, name
    # The compose deployment documents the same variables for its env file.
    example = (DEPLOY / "stripe-assets.env.example").read_text()
    for name in (object_store.KEY_ID_ENV, object_store.SECRET_ENV, "AWS_REGION", "AWS_ENDPOINT_URL"):
        assert f"# {name}=" in example, name
    for path in (DEPLOY / "docker-compose.yaml", DEPLOY / "helm" / "values.yaml", DEPLOY / "Dockerfile"):
        assert not re.search(r"AWS_SECRET_ACCESS_KEY\s*[:=]\s*[^.\s]", path.read_text()), path


def test_the_compose_file_runs_postgres_webserver_daemon_and_code_location():
    compose = _yaml("docker-compose.yaml")
    assert {"postgres", "stripe_assets_code", "webserver", "daemon"} <= set(compose["services"])
    for service in ("webserver", "daemon", "stripe_assets_code"):
        mounts = compose["services"][service]["volumes"]
        assert "./docker/dagster.yaml:/opt/dagster/dagster_home/dagster.yaml:ro" in mounts
    assert compose["services"]["daemon"]["command"][0] == "dagster-daemon"
    init_sql = (DEPLOY / "docker" / "init-lake.sql").read_text()
    lake_db = re.search(r"dbname=(\w+)", compose["x-dagster-env"]["STRIPE_ASSETS_WAREHOUSE"]).group(1)
    assert f"CREATE DATABASE {lake_db}" in init_sql


def test_docker_instance_is_the_production_instance_plus_the_docker_launcher():
    production, docker = _yaml("dagster.yaml"), _yaml("docker/dagster.yaml")
    assert "run_launcher" not in production
    assert {k: v for k, v in docker.items() if k != "run_launcher"} == production


def test_one_run_per_dataflow_in_the_instance_and_in_the_chart():
    assert _yaml("dagster.yaml")["run_coordinator"]["class"] == "QueuedRunCoordinator"
    concurrency = _yaml("dagster.yaml")["concurrency"]
    assert concurrency["runs"]["tag_concurrency_limits"] == [
        {"key": DATAFLOW_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 1}
    ]
    values = _yaml("helm/values.yaml")
    daemon = values["dagsterDaemon"]
    assert daemon["runCoordinator"]["type"] == "QueuedRunCoordinator"
    assert values["concurrency"]["runs"]["tagConcurrencyLimits"] == concurrency["runs"]["tag_concurrency_limits"]
    assert values["concurrency"]["runs"]["maxConcurrentRuns"] == concurrency["runs"]["max_concurrent_runs"]
    retries = _yaml("dagster.yaml")["run_retries"]
    assert daemon["runRetries"] == {
        "enabled": retries["enabled"], "maxRetries": retries["max_retries"],
        "retryOnAssetOrOpFailure": retries["retry_on_asset_or_op_failure"],
    }
    assert daemon["runMonitoring"]["enabled"] and _yaml("dagster.yaml")["run_monitoring"]["enabled"]
    assert _yaml("helm/values.yaml")["runLauncher"]["type"] == "K8sRunLauncher"
    scheme = _yaml("dagster.yaml")["storage"]["postgres"]["postgres_db"]["scheme"]
    assert _yaml("helm/values.yaml")["postgresql"]["postgresqlScheme"] == scheme


@pytest.mark.parametrize("relative", ["dagster.yaml", "docker/dagster.yaml"])
def test_instance_files_pass_dagsters_own_schema(relative, monkeypatch):
    from dagster._config import process_config
    from dagster._core.instance.config import dagster_instance_config_schema

    for name in PG_VARS:
        monkeypatch.setenv(name, "5432")

    result = process_config(dagster_instance_config_schema(), _yaml(relative))
    assert result.success, result.errors
