"""End to end: the real daemon runs the alert sensor; a CLI-launched run reaches the webhook."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
import yaml

from stripe_assets_tests.daemon import DAEMON_DEADLINE_SECONDS, dagster_daemon
from stripe_assets_tests.processes import run_one, work_deadline

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
WAIT_SECONDS = DAEMON_DEADLINE_SECONDS  # polled: returns as soon as the daemon has done it


@pytest.mark.slow
def test_daemon_sends_start_and_success_webhooks_for_a_cli_run(tmp_path, make_webhook):
    hook = make_webhook()
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    # Create the instance storage once, before two processes race to create it.
    dg.DagsterInstance.from_config(str(home)).dispose()
    dataflows = tmp_path / "dataflows.yaml"
    dataflows.write_text(
        yaml.safe_dump(
            {
                "channels": {
                    "log": {"type": "log", "path": str(tmp_path / "alerts.jsonl")},
                    "team_chat": {"type": "webhook", "url_env": "TEAM_HOOK", "timeout_seconds": 2},
                },
                "dataflows": [
                    {"name": "stripe_charges", "resource": "charges", "alerts": {"channels": ["log", "team_chat"]}}
                ],
            }
        )
    )
    location = REPO / "stripe_assets_tests" / "alerts" / "daemon_location.py"
    (tmp_path / "workspace.yaml").write_text(
        yaml.safe_dump(
            {"load_from": [{"python_file": {"relative_path": str(location), "working_directory": str(REPO)}}]}
        )
    )
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "STRIPE_ASSETS_DATAFLOWS": str(dataflows),
        "TEAM_HOOK": hook.url,
        "PYTHONPATH": str(REPO),
    }
    with dagster_daemon(tmp_path / "workspace.yaml", cwd=tmp_path, env=env, log_path=tmp_path / "daemon.log") as daemon:
        materialize = run_one(
            [BIN / "dagster", "asset", "materialize", "-f", location, "--select", "stripe/charges",
             "--partition", "2026-10-02"],
            deadline_seconds=work_deadline(processes=1, asset_partitions=1), log_dir=tmp_path / "runs", cwd=REPO,
            env=env,
        )  # fmt: skip
        assert materialize.returncode == 0, materialize.output[-2000:]

        deadline = time.monotonic() + WAIT_SECONDS
        while len(hook.delivered) < 2 and time.monotonic() < deadline and daemon.poll() is None:
            time.sleep(0.5)

    log_tail = (tmp_path / "daemon.log").read_text()[-3000:]
    assert [b["status"] for b in hook.delivered] == ["start", "success"], log_tail
    success = hook.delivered[1]
    assert success["dataflows"] == ["stripe_charges"] and success["partition"] == "2026-10-02"
    assert success["records_loaded"] == 42
    assert success["run_url"].startswith("http://localhost:3000/runs/")
