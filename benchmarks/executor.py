"""How a run's step processes start: this project's executor against Dagster's public one.

One small `dagster asset materialize` run (a handful of assets over one day, zero latency) per
executor, repeated; for each: the command's wall time, the CPU of the command and every process
under it, and each step's start (from Dagster launching the step's process to the step's own
STEP_START event, read from the run's event log). Executors: see `benchmarks/executor_location.py`.

    python benchmarks/executor.py [--modes fork,forkserver,public,spawn] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from rate_limit import BIN, KEY, ROOT, START, TreeCPU, dagster_home

from stripe_assets_emulator import EmulatorConfig, start_emulator

ASSETS = ("charges", "customers", "invoices", "payouts", "refunds", "products")
DAY = START.isoformat()


def step_starts(home: str) -> list[float]:
    """Seconds from each step's process launch to its STEP_START, in the home's only run."""
    import dagster as dg

    os.environ["DAGSTER_HOME"] = home
    with dg.DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        launched: dict[str, float] = {}
        starts: list[float] = []
        for entry in instance.all_logs(run.run_id):
            event = entry.dagster_event
            if event is None or not entry.step_key:
                continue
            if event.event_type == dg.DagsterEventType.STEP_WORKER_STARTING:
                launched[entry.step_key] = entry.timestamp
            elif event.event_type == dg.DagsterEventType.STEP_START and entry.step_key in launched:
                starts.append(entry.timestamp - launched[entry.step_key])
    return starts


def one_run(tmp: Path, label: str, url: str, mode: str) -> tuple[float, float, list[float]]:
    with dagster_home(tmp, label, url, "{}") as env:
        env = {**env, "BENCH_EXECUTOR": mode, "PYTHONPATH": str(ROOT / "benchmarks")}
        select = " or ".join(f"key:stripe/{name}" for name in ASSETS)
        began = time.perf_counter()
        run = subprocess.Popen(
            [str(BIN / "dagster"), "asset", "materialize", "-m", "executor_location",
             "--select", select, "--partition", DAY],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        tree = TreeCPU(run.pid)
        output, _ = run.communicate()
        wall, cpu = time.perf_counter() - began, tree.stop()
        if run.returncode != 0:
            raise SystemExit(f"{mode}: run failed\n{output[-3000:]}")
        return wall, cpu, step_starts(env["DAGSTER_HOME"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default="fork,forkserver,public,spawn")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    modes = args.modes.split(",")
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
          f"{len(ASSETS)} assets, one day", flush=True)
    config = EmulatorConfig(seed=3, start=START, days=2, per_day=200, api_key=KEY)
    results: dict[str, list[tuple[float, float, list[float]]]] = {m: [] for m in modes}
    with start_emulator(config, separate_process=True) as emu, tempfile.TemporaryDirectory() as tmp_name:
        for i in range(args.repeat):  # modes interleaved, so a busier minute weighs on each alike
            for mode in modes:
                wall, cpu, starts = one_run(Path(tmp_name), f"{mode}{i}", emu.url, mode)
                results[mode].append((wall, cpu, starts))
                print(f"{mode:10} run {i + 1}: wall {wall:5.1f}s, CPU {cpu:5.1f}s, step start "
                      f"median {statistics.median(starts):.2f}s max {max(starts):.2f}s", flush=True)
    print("\nmode       | wall (median) | CPU (median) | step start median / max (all runs)")
    for mode, runs in results.items():
        starts = [s for _, _, run_starts in runs for s in run_starts]
        wall, cpu = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
        print(f"{mode:10} | {wall:5.1f}s | {cpu:5.1f}s | {statistics.median(starts):.2f}s / {max(starts):.2f}s")


if __name__ == "__main__":
    main()
