"""A small load's fixed cost: CPU of loads of one small day, this tree against another revision's.

Each code loads the same day of `--per-day` charges (default 100) at zero latency from the
emulator (its own process), `--loads` times in a process of its own into one warehouse file,
as a minute dataflow's ticks do: the first load pays what a fresh process pays once (the
column descriptions, DuckDB's first statements), the others what every load pays. CPU is the
loading process's, every thread (`time.process_time`), imports excluded. The two codes
alternate `--repeat` times, so a busier minute weighs on both alike.

    python benchmarks/fixed_cost.py [--before wt-int5] [--per-day 100] [--loads 20] [--repeat 3]
                                    [--profile DIR]

`--profile DIR` writes cProfiles (CPU time) of this tree's loads: DIR/first-main.prof and
DIR/first-land.prof (the first load: its main thread, its landing thread), DIR/later-*.prof (the
others, summed).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from cpu import ROOT, export_tree
from rate_limit import KEY

from stripe_assets_emulator import EmulatorConfig, start_emulator

# N loads of one day in one process: prints "LOAD i cpu_seconds objects" per load.
_LOADS = """
import cProfile, sys, time
from pathlib import Path
from benchmarks.rate_limit import load, windows, START
from stripe_assets.ingest.warehouse import Warehouse
url, n, out, profile = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
profiles = {}
if profile:  # CPU time of the main thread and of the landing thread, apart
    from stripe_assets.ingest import landing
    land = landing.Lander._land
    def _land(self, *args):
        p = profiles.setdefault(("land", current), cProfile.Profile(time.thread_time))
        p.enable()
        try:
            return land(self, *args)
        finally:
            p.disable()
    landing.Lander._land = _land
for i in range(n):
    current = "first" if i == 0 else "later"
    p = profiles.setdefault(("main", current), cProfile.Profile(time.thread_time)) if profile else None
    cpu = time.process_time()
    if p: p.enable()
    report = load(url, "charges", windows(START, 1), out)
    if p: p.disable()
    print(f"LOAD {i} {time.process_time() - cpu:.4f} {report.records_fetched}", flush=True)
for (thread, which), p in profiles.items():
    p.dump_stats(f"{profile}/{which}-{thread}.prof")
"""


def loads_in_process(tree: Path, url: str, n: int, out: Path, profile: str = "") -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-c", _LOADS, url, str(n), str(out), profile],
        cwd=tree, env=env, capture_output=True, text=True,
    )
    found = [line.split() for line in done.stdout.splitlines() if line.startswith("LOAD")]
    if len(found) != n:
        raise SystemExit(f"loads failed in {tree}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return [float(cpu) for _, _, cpu, _ in found]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="main", help="the revision to compare with")
    parser.add_argument("--per-day", type=int, default=100)
    parser.add_argument("--loads", type=int, default=20, help="loads in each process")
    parser.add_argument("--repeat", type=int, default=3, help="processes of each code")
    parser.add_argument("--profile", type=Path, default=None)
    args = parser.parse_args()
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    from cpu import START

    config = EmulatorConfig(seed=5, start=START, days=1, per_day={"charges": args.per_day}, api_key=KEY)
    results: dict[str, dict[str, list[float]]] = {code: {"first": [], "later": []} for code in ("before", "now")}
    with start_emulator(config, separate_process=True) as emu, tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        old = export_tree(args.before, tmp / "before")
        for i in range(args.repeat):
            for label, tree in (("before", old), ("now", ROOT)):
                cpus = loads_in_process(tree, emu.url, args.loads, tmp / f"{label}{i}.duckdb")
                results[label]["first"].append(cpus[0])
                results[label]["later"] += cpus[1:]
                print(f"{label:6} process {i + 1}: first {cpus[0] * 1000:.0f} ms, later loads median "
                      f"{statistics.median(cpus[1:]) * 1000:.0f} ms; load average {os.getloadavg()[0]:.1f}",
                      flush=True)
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
            loads_in_process(ROOT, emu.url, args.loads, tmp / "profiled.duckdb", str(args.profile.resolve()))
    print(f"\n{'code':<8}{'first load':>12}{'later loads':>13}   (CPU ms: median of {args.repeat} processes; "
          f"of {args.repeat * (args.loads - 1)} later loads)")
    for label, found in results.items():
        print(f"{label:<8}{statistics.median(found['first']) * 1000:>12.0f}"
              f"{statistics.median(found['later']) * 1000:>13.1f}")
    print(f"load average at the end {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
