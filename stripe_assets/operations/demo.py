"""The README's demo: start the local emulator, load the last N days of every asset through the
real `dagster asset materialize` CLI, and print what landed.

Run as `python -m stripe_assets.operations.demo` (what `make demo` does).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from stripe_assets.catalog import RESOURCE_NAMES
from stripe_assets.dagster_cli import without_supersession_warnings
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets.operations import summary
from stripe_assets.operations.demo_emulator import demo_emulator
from stripe_assets.operations.instance import dagster_instance
from stripe_assets.settings import project_home, settings


def _bin(name: str) -> str:
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else (shutil.which(name) or name)


# Dagster's run events worth showing while the demo runs; the rest goes to the log file.
_SHOWN_EVENTS = ("STEP_SUCCESS", "STEP_FAILURE", "RUN_SUCCESS", "RUN_FAILURE")
# A step process's console output reaches the terminal through a `tail -F` of its captured log,
# which Dagster stops as soon as the step ends, dropping its last lines unless told to wait.
_TAIL_WAIT = ("DAGSTER_COMPUTE_LOG_TAIL_WAIT_AFTER_FINISH", "2")


def step_results(home: Path, after: float) -> list[str]:
    """What Dagster recorded of the demo's run: one line per step and the run's status, read
    from the instance's event log (the console may still miss a line on a loaded machine)."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = [r for r in instance.get_run_records(limit=5) if r.create_timestamp.timestamp() >= after]
        if not runs:
            return ["Dagster recorded no run"]
        run = runs[0].dagster_run
        events = instance.all_logs(
            run.run_id, of_type={dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE}
        )
        steps = sorted((e.step_key or "?", e.dagster_event_type == dg.DagsterEventType.STEP_SUCCESS) for e in events)
    ok = sum(good for _, good in steps)
    lines = [f"Dagster recorded run {run.run_id}: {run.status.value}, {ok} of {len(steps)} steps succeeded"]
    lines += [f"  {key}: {'succeeded' if good else 'FAILED'}" for key, good in steps]
    return lines


def _materialize(command: list[str], env: dict[str, str], log_path: Path) -> int:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log, subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            event = next((e for e in _SHOWN_EVENTS if f" - {e} - " in line), None)
            if event:
                print("  " + line.split(f" - {event} - ", 1)[1].strip()[:200])
        return proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--api-key", default="sk_test_emulator")
    parser.add_argument("--days", type=int, default=7, help="complete UTC days to load, ending yesterday")
    args = parser.parse_args(argv)

    today = datetime.now(UTC).date()
    first, last = today - timedelta(days=args.days), today - timedelta(days=1)
    env = without_supersession_warnings({
        **dict([_TAIL_WAIT]),
        **os.environ,
        "STRIPE_API_KEY": args.api_key,
        "DAGSTER_HOME": str(project_home()),
    })
    # The instance is created here, once, before the run starts (see `first_use`).
    os.environ["DAGSTER_HOME"] = env["DAGSTER_HOME"]
    with dagster_instance() as (_, problem):
        if problem:
            print(f"note: {problem}")
    with demo_emulator(args.port, args.api_key, [_bin("stripe-assets"), "emulator"]) as port:
        env["STRIPE_API_BASE"] = f"http://127.0.0.1:{port}"
        print(f"Loading {', '.join(RESOURCE_NAMES)} for {first} .. {last} from the emulator on port {port}")
        began, started = time.perf_counter(), time.time() - 1
        log_path = settings().home / "data" / "demo-materialize.log"
        returncode = _materialize(
            [
                _bin("dagster"), "asset", "materialize",
                "-m", "stripe_assets.definitions",
                "--select", "key:stripe/*",
                "--partition-range", f"{first:%Y-%m-%d}...{last:%Y-%m-%d}",
            ],
            env,
            log_path,
        )
        print(
            f"dagster asset materialize finished in {time.perf_counter() - began:.1f}s "
            f"(exit {returncode}); full log: {log_path}"
        )
        recorded = step_results(project_home(), started)
        print("\n".join(recorded))
        with open(log_path, "a") as log:
            log.write("\n".join(recorded) + "\n")
    warehouse = Warehouse(settings().duckdb_path)
    print()
    if not warehouse.path.exists():
        print(f"Nothing was loaded into {warehouse.path}: see the log above")
        return returncode or 1
    print(f"Warehouse {warehouse.path}")
    print(summary.render(summary.summarize(warehouse, summary.configured())))
    return returncode


if __name__ == "__main__":
    sys.exit(main())
