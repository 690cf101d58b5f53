"""deploy/dagster.yaml as a real instance on a real Postgres: storage, queue and limits."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
from dagster._serdes import serialize_value

from stripe_assets.dataflows.schedules import DATAFLOW_TAG
from stripe_assets.ingest.limiter import budget_name
from stripe_assets_tests.test_assets import materialize

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def production_home(tmp_path, monkeypatch, postgres, postgres_db):
    """A DAGSTER_HOME with deploy/dagster.yaml, its DAGSTER_PG_* variables pointing at the test database."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")
    for name, value in postgres.dagster_env(postgres_db).items():
        monkeypatch.setenv(name, value)
    return home


def test_runs_materializations_and_the_request_budget_live_in_postgres(
    production_home, stripe_env, postgres, postgres_db
):
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage

    with dg.DagsterInstance.from_config(str(production_home)) as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        result = materialize(instance, selection=["stripe/charges"], partition_key="2026-10-02")
        assert result.success
    # Another process's view: a fresh instance on the same database sees the run and the data.
    with dg.DagsterInstance.from_config(str(production_home)) as other:
        [run] = other.get_runs()
        assert run.run_id == result.run_id and run.status == dg.DagsterRunStatus.SUCCESS
        event = other.get_latest_materialization_event(dg.AssetKey(["stripe", "charges"]))
        assert event is not None and event.run_id == result.run_id
        assert event.asset_materialization.partition == "2026-10-02"
    # The run drew its requests from the key's budget in the instance's database, where runs on
    # other machines draw from it too (named by a hash, never the key).
    with psycopg2.connect(postgres.dsn(postgres_db)) as conn, conn.cursor() as cur:
        cur.execute("SELECT name, state FROM stripe_assets_budgets")
        budgets = cur.fetchall()
    assert [name for name, _ in budgets] == [budget_name(stripe_env.api_key, stripe_env.url.rstrip("/"))]
    assert "account at" in budgets[0][1] and stripe_env.api_key not in str(budgets)


def test_a_password_with_url_characters_loads_and_is_never_shown(
    production_home, stripe_env, postgres, postgres_db, monkeypatch
):
    password = "pg/secret@x:y%z w"
    postgres.add_login("deploy_user", password)
    monkeypatch.setenv("DAGSTER_PG_USERNAME", "deploy_user")
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", password)
    with dg.DagsterInstance.from_config(str(production_home)) as instance:
        result = materialize(instance, selection=["stripe/charges"], partition_key="2026-10-02")
        assert result.success
        stored = "\n".join(serialize_value(entry) for entry in instance.all_logs(result.run_id))
    assert "pg/secret" not in stored and "pg" + "%2Fsecret" not in stored
    with psycopg2.connect(postgres.dsn(postgres_db)) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM stripe_assets_budgets")
        assert cur.fetchone() == (1,)  # the run's requests drew from the shared budget


def test_submitted_runs_queue_with_one_slot_per_dataflow(production_home):
    with dg.DagsterInstance.from_config(str(production_home)) as instance:
        coordinator = instance.run_coordinator
        assert isinstance(coordinator, dg.QueuedRunCoordinator)
        limits = instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 8
        assert {"key": DATAFLOW_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 1} in limits
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
        assert instance.run_monitoring_enabled
