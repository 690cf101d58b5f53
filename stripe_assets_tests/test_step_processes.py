"""Step processes start warm: forked from the run's process, or from a server that loaded the code
location once per run."""

import os
import subprocess
import sys
from pathlib import Path

from stripe_assets.catalog import RESOURCE_NAMES

FORK_SERVER = "stripe_assets.fork_server"


def test_a_run_forks_its_steps_from_its_own_process_unless_other_threads_run_there(tmp_path: Path):
    # `dagster asset materialize` runs with one thread: its steps fork from it, warm. A run worker
    # with threads of its own (`dagster dev`'s, the daemon's) has them fork from a fork server.
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "STRIPE_API_KEY": "sk_test_forkServer"}
    code = (
        "import threading\n"
        "from stripe_assets.definitions import defs\n"
        "job = defs().get_repository_def().get_implicit_global_asset_job_def()\n"
        "assert job.executor_def.name == 'multiprocess'\n"
        "def created():\n"
        "    executor = job.executor_def.executor_creation_fn(None)\n"
        "    print(executor._start_method, executor._max_concurrent, executor._explicit_forkserver_preload)\n"
        "created()\n"
        "threading.Thread(target=threading.Event().wait, daemon=True).start()\n"
        "created()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    alone, threaded = done.stdout.splitlines()
    assert alone.split()[0] == ("fork" if sys.platform == "linux" else "forkserver")
    assert threaded.split(" ", 2)[0] == "forkserver" and threaded.split(" ", 2)[2] == f"['{FORK_SERVER}']"
    # Every asset at once, whatever the core count.
    assert int(alone.split()[1]) == int(threaded.split()[1]) == len(RESOURCE_NAMES)


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
        "assert 'stripe_assets.dagster.assets' in sys.modules, 'the code location was not loaded'\n"
        "print(threading.active_count())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "1"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["dagster_home"]


def test_the_fork_server_says_when_the_definitions_do_not_build(tmp_path: Path):
    # The server lives on (each step builds the definitions again and fails with the error
    # itself), but the error is said in one line rather than swallowed.
    flows = tmp_path / "dataflows.yaml"
    flows.write_text("dataflows:\n  - name: charges\n    resource: chargez\n")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(tmp_path),
        "STRIPE_API_KEY": "sk_test_forkServer",
        "STRIPE_ASSETS_DATAFLOWS": str(flows),
    }
    done = subprocess.run(
        [sys.executable, "-c", f"import {FORK_SERVER}"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if line.startswith(FORK_SERVER)]
    assert len(lines) == 1 and "the definitions did not build" in lines[0] and "chargez" in lines[0], done.stderr
