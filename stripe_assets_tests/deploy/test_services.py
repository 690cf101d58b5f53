"""Past one machine, end to end: Dagster's instance and the DuckLake catalog on a real Postgres.

Runs are separate processes (the CLI, the daemon and the runs it launches), as on separate
machines; they share nothing but Postgres and the lake's data folder.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
import yaml

from stripe_assets.dataflows.schedules import DATAFLOW_TAG
from stripe_assets.settings import Settings, open_warehouse
from stripe_assets_emulator import EmulatorConfig, start_emulator
from stripe_assets_tests.alerts.servers import WebhookServer
from stripe_assets_tests.conftest import day_window
from stripe_assets_tests.daemon import (
    DAEMON_DEADLINE_SECONDS,
    dagster_daemon,
    turn_on_schedule,
    wait_for_finished_run,
)
from stripe_assets_tests.processes import run_together, work_deadline

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# Three days loaded by four runs at once: the first day twice, by two runs racing for it.
DAYS = ["2026-10-02", "2026-10-03", "2026-10-04", "2026-10-02"]


def _production_env(tmp_path: Path, postgres, **extra: str) -> dict[str, str]:
    """DAGSTER_HOME with deploy/dagster.yaml on a fresh database, the warehouse a DuckLake on another."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")
    instance_db = postgres.create_database(f"dagster_{tmp_path.name[-20:]}".replace("-", "_"))
    lake_db = postgres.create_database(f"lake_{tmp_path.name[-20:]}".replace("-", "_"))
    env = {
        **os.environ,
        **postgres.dagster_env(instance_db),
        "DAGSTER_HOME": str(home),
        "STRIPE_ASSETS_WAREHOUSE": f"ducklake:postgres:{postgres.dsn(lake_db)}",
        "STRIPE_ASSETS_LAKE_DATA_PATH": str(tmp_path / "lake"),
        **extra,
    }
    env.pop("STRIPE_ASSETS_DUCKDB_PATH", None)
    return env


def _instance(env: dict[str, str]) -> dg.DagsterInstance:
    """The instance as another machine sees it (the DAGSTER_PG_* variables of `env`)."""
    saved = {k: os.environ.get(k) for k in env if k.startswith("DAGSTER_PG_")}
    os.environ.update({k: env[k] for k in saved})
    try:
        return dg.DagsterInstance.from_config(env["DAGSTER_HOME"])
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


CONCURRENT = ("charges", "refunds", "customers", "balance_transactions", "invoices", "invoice_line_items")


@pytest.mark.slow
def test_four_concurrent_all_asset_runs_share_the_instance_and_the_lake(tmp_path, postgres, emulator):
    # One resource of each kind of write (created-only, changing, deleting, settling, a child
    # list): what the runs race for is the instance and the lake, not the number of assets.
    dataflows = tmp_path / "dataflows.yaml"
    dataflows.write_text("dataflows:\n" + "".join(
        f"  - {{name: stripe_{r}, resource: {r}, start_time: 2026-10-01T00:10:00Z,"
        f" history_start: 2026-10-01T00:00:00Z}}\n" for r in CONCURRENT
    ))  # fmt: skip
    env = _production_env(
        tmp_path, postgres, STRIPE_API_KEY=emulator.api_key, STRIPE_API_BASE=emulator.url,
        STRIPE_ASSETS_DATAFLOWS=str(dataflows),
    )
    _instance(env).dispose()  # create the schema once, before four processes race to
    # Each run executes its six assets one after another in its own process (2 cores here).
    in_process = '{"execution": {"config": {"in_process": {}}}}'
    runs = run_together(
        [[BIN / "dagster", "asset", "materialize", "-m", "stripe_assets.definitions",
          "--select", "key:stripe/*", "--partition", day, "--config-json", in_process] for day in DAYS],
        deadline_seconds=work_deadline(processes=len(DAYS), asset_partitions=len(DAYS) * len(CONCURRENT)),
        log_dir=tmp_path / "runs", cwd=tmp_path, env=env,
    )  # fmt: skip
    # Every run succeeds; of the two runs of the same day, per resource, one lands after the other,
    # or the one that finds the other's load (as new) landed since it started sets its fetch aside
    # and says so; never both at once.
    for run in runs:
        assert run.returncode == 0, run.output[-3000:]

    with _instance(env) as instance:
        records = instance.get_runs()
        assert len(records) == 4
        succeeded = sum(r.status == dg.DagsterRunStatus.SUCCESS for r in records)
        assert succeeded == sum(r.returncode == 0 for r in runs)
        for resource in CONCURRENT:
            events = instance.fetch_materializations(dg.AssetKey(["stripe", resource]), limit=20).records
            assert {e.partition_key for e in events} == set(DAYS)

    warehouse = open_warehouse(Settings.from_env(env))
    assert warehouse.lake is not None and warehouse.lake.shared
    with warehouse.connect(read_only=True) as conn:
        for resource in (r for r in CONCURRENT if r != "invoice_line_items"):
            ids = [r[0] for r in conn.execute(f"SELECT id FROM stripe.{resource}").fetchall()]
            expected = {i for day in set(DAYS) for i in emulator.listable_ids(resource, *day_window(day))}
            assert len(ids) == len(set(ids)), f"{resource}: an id landed twice"
            assert set(ids) == expected, resource
            # The day loaded twice holds one run's rows whole, not a mix of both.
            writers, rows = conn.execute(
                f"SELECT count(DISTINCT _run_id), count(*) FROM stripe.{resource} WHERE _partition = ?", [DAYS[0]]
            ).fetchone()
            assert writers == min(rows, 1), resource  # (a resource may have nothing on that day)
    assert not (tmp_path / "data").exists()  # no DuckDB file anywhere: everything went to the lake


@pytest.mark.slow
def test_the_daemon_on_postgres_ticks_a_schedule_queues_the_run_and_sends_its_alerts(tmp_path, postgres):
    hook = WebhookServer()
    now = datetime.now(UTC)
    # The first tick at a whole minute soon. The schedule is turned on now, before it, so the
    # daemon runs that tick whether it is up by then or comes up after it (a catch-up tick).
    start_time = (now + timedelta(seconds=90)).replace(second=0, microsecond=0)
    window_start = start_time.replace(minute=start_time.minute - start_time.minute % 15)
    # The day of the first window (near midnight, tomorrow).
    emulator = start_emulator(EmulatorConfig(seed=3, start=window_start.date(), days=1, per_day=3000))
    (tmp_path / "dataflows.yaml").write_text(yaml.safe_dump({
        "channels": {
            "log": {"type": "log", "path": str(tmp_path / "alerts.jsonl")},
            "team_chat": {"type": "webhook", "url_env": "TEAM_HOOK", "timeout_seconds": 2},
        },
        "dataflows": [{
            "name": "stripe_charges", "resource": "charges", "frequency": "minute", "interval": 15,
            "start_time": start_time.strftime("%Y-%m-%dT%H:%M:%SZ"), "backfill": False,
            "alerts": {"send": ["start", "success", "failure"], "channels": ["log", "team_chat"]},
        }],
    }))
    (tmp_path / "workspace.yaml").write_text(yaml.safe_dump({"load_from": [{"python_module": {
        "module_name": "stripe_assets.definitions", "working_directory": str(tmp_path),
        "location_name": "stripe_assets",
    }}]}))
    env = _production_env(
        tmp_path, postgres, STRIPE_API_KEY=emulator.api_key, STRIPE_API_BASE=emulator.url,
        STRIPE_ASSETS_DATAFLOWS=str(tmp_path / "dataflows.yaml"), TEAM_HOOK=hook.url,
        STRIPE_ASSETS_SCHEDULES="stopped",  # turned on below, as of `now`
    )
    log_path = tmp_path / "daemon.log"
    try:
        with _instance(env) as instance:
            turn_on_schedule(
                instance, "stripe_charges_schedule", tmp_path / "workspace.yaml", cwd=tmp_path, env=env, since=now
            )
        with dagster_daemon(tmp_path / "workspace.yaml", cwd=tmp_path, env=env, log_path=log_path) as daemon:
            with _instance(env) as instance:
                scheduled = dg.RunsFilter(tags={"dagster/schedule_name": "stripe_charges_schedule"})
                until_tick = max(0.0, (start_time - datetime.now(UTC)).total_seconds())
                run = wait_for_finished_run(instance, daemon, scheduled, until_tick + DAEMON_DEADLINE_SECONDS)
            deadline = time.monotonic() + DAEMON_DEADLINE_SECONDS
            while run is not None and len(hook.delivered) < 2 and time.monotonic() < deadline:
                time.sleep(0.5)
    finally:
        emulator.stop()
        hook.stop()
    tail = log_path.read_text()[-4000:]
    assert run is not None, tail
    assert run.status == dg.DagsterRunStatus.SUCCESS, tail
    # Launched through the queue: the tag the per-dataflow concurrency limit counts.
    assert run.tags[DATAFLOW_TAG] == "stripe_charges"
    assert run.tags["dagster/schedule_name"] == "stripe_charges_schedule"
    with _instance(env) as instance:
        types = {e.dagster_event.event_type for e in instance.all_logs(run.run_id) if e.dagster_event}
        assert {dg.DagsterEventType.RUN_ENQUEUED, dg.DagsterEventType.RUN_STARTING} <= types

    assert [b["status"] for b in hook.delivered] == ["start", "success"], tail
    success = hook.delivered[1]
    assert success["dataflows"] == ["stripe_charges"] and success["run_id"] == run.run_id

    # Backfill off: the run loads the first window, nothing before the dataflow's start_time.
    assert run.tags["dagster/asset_partition_range_start"] == window_start.strftime("%Y-%m-%d-%H:%M")
    end = datetime.strptime(run.tags["dagster/asset_partition_range_end"], "%Y-%m-%d-%H:%M").replace(
        tzinfo=UTC
    )
    expected = set(emulator.listable_ids("charges", window_start, end + timedelta(minutes=15)))
    with open_warehouse(Settings.from_env(env)).connect(read_only=True) as conn:
        loaded = [r[0] for r in conn.execute("SELECT id FROM stripe.charges").fetchall()]
    assert sorted(loaded) == sorted(expected) and loaded
    assert success["records_loaded"] == len(loaded)

