"""Resident memory across the parts of one large window, this tree against another revision's.

One day of `--count` charges (default 200,000: twenty parts of 10,000) at zero latency from the
emulator (its own process), loaded by a process of its own with the code of `--before` (default
main) and with this tree's. After each part was validated, kept and collected, the loading
process's resident memory (VmRSS) is sampled: flat figures mean a part holds no more than the
last one did, whatever the collector does in between. Also the peak (VmHWM) and the CPU.

    python benchmarks/part_memory.py [--before main] [--count 200000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from cpu import ROOT, START, export_tree
from rate_limit import KEY

from stripe_assets_emulator import EmulatorConfig, start_emulator

# Prints "PART n rss_mb" after each part, then "RESULT objects cpu_seconds peak_mb".
_LOAD = """
import os, sys, time
from pathlib import Path
from benchmarks.emulator import rss_mb
from benchmarks.rate_limit import load, windows, START
from stripe_assets.ingest import load as load_module
stage = load_module.Loader._stage
parts = []
def _stage(self, index):
    stage(self, index)
    parts.append(rss_mb(os.getpid())[0])
    print(f"PART {len(parts)} {parts[-1]:.0f}", flush=True)
load_module.Loader._stage = _stage
cpu = time.process_time()
report = load(sys.argv[1], "charges", windows(START, 1), Path(sys.argv[2]))
cpu = time.process_time() - cpu
print(f"RESULT {report.records_loaded} {cpu:.1f} {rss_mb(os.getpid())[1]:.0f}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="main", help="the revision to compare with")
    parser.add_argument("--count", type=int, default=200_000)
    args = parser.parse_args()
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    config = EmulatorConfig(seed=7, start=START, days=1, per_day={"charges": args.count}, api_key=KEY)
    with start_emulator(config, separate_process=True) as emu, tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        old = export_tree(args.before, tmp / "before")
        for label, tree in (("before", old), ("now", ROOT)):
            done = subprocess.run(
                [sys.executable, "-c", _LOAD, emu.url, str(tmp / f"{label}.duckdb")],
                cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)}, capture_output=True, text=True,
            )
            parts = [line.split()[2] for line in done.stdout.splitlines() if line.startswith("PART")]
            result = [line.split()[1:] for line in done.stdout.splitlines() if line.startswith("RESULT")]
            if not result:
                raise SystemExit(f"{label} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
            objects, cpu, peak = result[0]
            print(f"{label:<7} {int(objects):,} charges, {cpu} s of CPU, peak RSS {peak} MB; "
                  f"RSS after each part (MB): {' '.join(parts)}", flush=True)
    print(f"load average at the end {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
