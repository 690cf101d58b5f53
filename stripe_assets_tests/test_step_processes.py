"""Step processes fork from a server that loaded the code location once per run."""

import os
import subprocess
import sys
from pathlib import Path

from stripe_assets.definitions import defs

FORK_SERVER = "stripe_assets.fork_server"


def test_every_run_starts_its_steps_from_a_fork_server_that_loaded_the_code_location():
    job = defs().get_repository_def().get_implicit_global_asset_job_def()
    config = job.executor_def.apply_config_mapping({}).value["config"]
    assert config["start_method"] == {"forkserver": {"preload_modules": [FORK_SERVER]}}
    assert config["max_concurrent"] >= 6  # every asset at once, whatever the core count
    assert job.executor_def.name == "multiprocess"


def test_loading_the_fork_server_creates_nothing_and_starts_no_thread(tmp_path: Path):
    # Whatever the server opens, every step process forked from it would share.
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "STRIPE_ASSETS_DUCKDB_PATH": str(tmp_path / "warehouse" / "stripe.duckdb"),
        "STRIPE_API_KEY": "sk_test_forkServer",
    }
    code = (
        "import threading, sys\n"
        f"import {FORK_SERVER}\n"
        "assert 'stripe_assets.defs.stripe.assets' in sys.modules, 'the code location was not loaded'\n"
        "print(threading.active_count())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "1"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["dagster_home"]
