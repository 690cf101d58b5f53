"""Objects per CPU-second, today's path against another revision's, side by side in one command.

    zero      every declared resource at zero latency, loaded by a process of its own
              (`load_partitions`, one ranged load as a backfill does; the top-level lists within
              the key's default budget, the child lists without one), once with the code of
              `--before` (default: main) and once with this tree's; CPU-seconds are the loading
              process's, every thread, from the moment the load starts (imports excluded); a
              child list also shows its requests per CPU-second; with disputes among the
              resources, disputes are also read at volume (an emulator disputing 1 charge in 10);
              `--rounds N` alternates the two trees N times per resource (disputes at volume
              too) and takes the median CPU of each, showing the spread of the pairs' ratios (a
              shared machine's speed can move by 1.5-2x within minutes)
    pinned    every resource in one `dagster asset materialize` run at Stripe's live limits and
              page latency with the default budget (80 requests/s), the run pinned to one core
              (`taskset -c 0`) and the emulator to the other; then the same run on both cores
    overhead  the run's CPU outside the loads: the 20 top-level lists in one `dagster asset
              materialize` run of one small day at zero latency (`--per-day`, e.g. 1000), with
              the code of `--before` and this tree's, alternated `--repeat` times; CPU of the
              run's own process, of each step process and of the compute-log helpers it starts

    python benchmarks/cpu.py [--only zero,pinned,overhead] [--per-day 10000] [--days 1] [--before main]
                             [--profile DIR] [--resources charges,invoice_line_items,...] [--repeat 3] [--rounds 1]
                             [--pretty]

`--profile DIR` writes a cProfile of each zero-latency load of this tree to DIR/<resource>.prof.
`--pretty`: the emulator indents its JSON as Stripe's API does (a field a line), which costs a
load more to parse and to cut into `raw` texts than the default compact pages.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import date, timedelta
from io import BytesIO
from pathlib import Path

from rate_limit import BIN, KEY, RateWatch, TreeCPU, dagster_home, materialize, process_stat, rows_loaded

from stripe_assets.catalog import RESOURCE_NAMES, get_resource
from stripe_assets.catalog.child import child_of
from stripe_assets_emulator import EmulatorConfig, FaultConfig, start_emulator
from stripe_assets_emulator.config import RATE_LIMIT_PRESETS

ROOT = Path(__file__).resolve().parent.parent
START = date(2026, 10, 1)
GOAL = 12_000  # objects per CPU-second for every resource
# The pinned runs read the top-level lists: a child list reads its parents' children per parent
# (70,000 invoice lines of 20,000 invoices a day take minutes at Stripe's latency), which is
# not the per-object path this measures.
TOP_LEVEL = " or ".join(f"key:stripe/{name}" for name in RESOURCE_NAMES if child_of(get_resource(name)) is None)

# One load in a process of its own: prints "RESULT objects cpu_seconds wall_seconds rejected requests".
# A child list (invoice line items, ...) is read per parent from the parents' table: its parent
# is loaded first, outside the measure. A child list loads without the key's budget: one read
# with a request per parent (a customer's payment methods) would wait 400 s at its endpoint's
# 25 requests/s for 10,000 parents; the top-level lists measure what the budget costs.
_LOAD = """
import cProfile, sys, time
from datetime import date
from pathlib import Path
from benchmarks.rate_limit import KEY, load, windows, START, UNLIMITED
from stripe_assets.catalog import get_resource
from stripe_assets.catalog.child import child_of
from stripe_assets.ingest.children.load import load_children
from stripe_assets.ingest.client import StripeReader
from stripe_assets.ingest.columns import default_columns
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.warehouse import Warehouse
url, resource, days, out, profile = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
first = date.fromisoformat(sys.argv[6]) if len(sys.argv) > 6 else START
try:  # the options of a load as one value; a revision before it takes them as keywords
    from stripe_assets.ingest.load_options import LoadOptions
    how = (LoadOptions(default_columns(get_resource(resource)), ValidationSettings(), run_id="bench"),), {}
except ImportError:
    how = (), dict(columns=default_columns(get_resource(resource)), settings=ValidationSettings(), run_id="bench")
child = child_of(get_resource(resource))
if child is not None:
    load(url, child.parent, windows(first, days), Path(out), limits=UNLIMITED)
profiler = cProfile.Profile() if profile else None
cpu, wall = time.process_time(), time.perf_counter()
if profiler: profiler.enable()
if child is None:
    report = load(url, resource, windows(first, days), Path(out))
else:
    report = load_children(StripeReader(KEY, url, limits=UNLIMITED), Warehouse(Path(out)), get_resource(resource),
                           windows(first, days), *how[0], **how[1])
if profiler: profiler.disable(); profiler.dump_stats(profile)
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
print(f"RESULT {report.records_fetched} {cpu:.3f} {wall:.3f} {report.records_rejected} {report.stats.requests}")
"""


def export_tree(ref: str, into: Path) -> Path:
    """The package as committed at `ref`, to import instead of this tree's."""
    archive = subprocess.run(
        ["git", "archive", ref, "stripe_assets", "benchmarks", "pyproject.toml", "dagster.yaml"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


# The emulator makes these few a day, some only days after their charges or invoices (disputes,
# credit notes, payouts; application fees: one charge in ten): they are read over SPARSE_DAYS
# days from the second week on (12,000 application fees and 13,000 credit notes at 10,000 a
# day; disputes and payouts stay few, and their figures are mostly a load's fixed cost).
SPARSE: tuple[str, ...] = ("payouts", "disputes", "application_fees", "credit_notes")
SPARSE += ("payout_balance_transactions", "credit_note_line_items")  # children of the above
SPARSE_FROM, SPARSE_DAYS = 7, 14
# Disputes at volume: an emulator of its own disputing this share of the charges (the default,
# one in a hundred, makes 1,418 in the 14 days read: a load's fixed cost). Payouts stay one a
# day per currency (84): the emulator has no setting for more.
VOLUME_DISPUTE_RATE = 0.1
# Stripe's per-endpoint budget (requests/s): what a list read with a request per parent can use.
ENDPOINT_BUDGET = 25


def span_of(resource: str, days: int) -> tuple[date, int]:
    """The first day and the number of days the zero part loads of `resource`."""
    if resource in SPARSE:
        return START + timedelta(days=SPARSE_FROM), max(days, SPARSE_DAYS)
    return START, days


def load_in_process(
    tree: Path, url: str, resource: str, days: int, out: Path, profile: str = ""
) -> tuple[int, float, float, int]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    first, days = span_of(resource, days)
    done = subprocess.run(
        [sys.executable, "-c", _LOAD, url, resource, str(days), str(out), profile, first.isoformat()],
        cwd=tree, env=env, capture_output=True, text=True,
    )
    found = [line for line in done.stdout.splitlines() if line.startswith("RESULT")]
    if not found:
        raise SystemExit(f"{resource} failed in {tree}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    objects, cpu, wall, _, requests = found[0].split()[1:]
    return int(objects), float(cpu), float(wall), int(requests)


def zero_latency(
    before: str,
    per_day: int,
    days: int,
    profile: Path | None,
    resources: list[str],
    pretty: bool = False,
    rounds: int = 1,
) -> list[str]:
    """Each resource loaded by both trees, alternated `rounds` times: a figure is the objects over
    the median CPU of its tree's loads, and with more than one round the spread of the pairs'
    ratios says how far this machine moved meanwhile."""
    lines = []
    longest = max(span_of(r, days)[0] - START + timedelta(days=span_of(r, days)[1]) for r in resources).days
    config = EmulatorConfig(seed=11, start=START, days=longest, per_day=per_day, api_key=KEY, pretty=pretty)
    with start_emulator(config, separate_process=True) as emu, tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        old = export_tree(before, tmp / "before")
        # The emulator serves from its own process: building its pages costs the loads no CPU.
        header = f"{'resource':<28}{'objects':>9}{'before/CPU-s':>14}{'now/CPU-s':>12}{'speed-up':>10}  now ≥ {GOAL:,}"
        print(header, flush=True)
        lines.append(header)
        totals = {"before": [0, 0.0], "now": [0, 0.0]}
        for resource in resources:
            rates, asked = {}, {}
            objects, spent, requests = alternated(old, emu.url, resource, days, tmp, rounds)
            for label in ("before", "now"):
                cpu = statistics.median(spent[label])
                rates[label] = objects / cpu
                asked[label] = requests / cpu
                totals[label][0] += objects
                totals[label][1] += cpu
            if not objects:
                line = f"{resource:<28}{0:>9}  (none in the days read)"
                print(line, flush=True)
                lines.append(line)
                continue
            if profile:  # a run of its own: the profiler's cost must not count in the figures
                load_in_process(ROOT, emu.url, resource, days, tmp / f"p-{resource}.duckdb", str(profile / resource))
            line = (
                f"{resource:<28}{objects:>9,}{rates['before']:>14,.0f}{rates['now']:>12,.0f}"
                f"{rates['now'] / rates['before']:>9.2f}x  {'yes' if rates['now'] >= GOAL else 'NO'}"
            )
            line += spread(spent)
            if child_of(get_resource(resource)) is not None:  # what a list read per parent keeps pace with
                line += (
                    f"\n{'':<4}requests per CPU-second {asked['before']:,.0f} -> {asked['now']:,.0f} "
                    f"(the endpoint's budget: {ENDPOINT_BUDGET}/s)"
                )
            print(line, flush=True)
            lines.append(line)
        b, n = (totals[k][0] / totals[k][1] for k in ("before", "now"))
        line = f"{'all':<28}{totals['now'][0]:>9,}{b:>14,.0f}{n:>12,.0f}{n / b:>9.2f}x"
        print(line, flush=True)
        lines.append(line)
    if "disputes" in resources:
        lines += disputes_at_volume(before, per_day, days, rounds)
    return lines


def alternated(
    old: Path, url: str, resource: str, days: int, tmp: Path, rounds: int
) -> tuple[int, dict[str, list[float]], int]:
    """`resource` loaded by the `--before` tree and this one, alternated `rounds` times: the
    objects, each tree's CPU-seconds per load, and the requests of a load."""
    spent: dict[str, list[float]] = {"before": [], "now": []}
    objects = requests = 0
    for round_ in range(rounds):
        for label, tree in (("before", old), ("now", ROOT)):
            out = tmp / f"{label}-{resource}-{round_}.duckdb"
            objects, cpu, _, requests = load_in_process(tree, url, resource, days, out)
            spent[label].append(cpu)
    return objects, spent, requests


def spread(spent: dict[str, list[float]]) -> str:
    """How far the pairs' speed-ups moved, when there was more than one pair."""
    pairs = sorted(b / n for b, n in zip(spent["before"], spent["now"], strict=True))
    return f"  (pairs {pairs[0]:.2f}-{pairs[-1]:.2f}x)" if len(pairs) > 1 else ""


def disputes_at_volume(before: str, per_day: int, days: int, rounds: int = 1) -> list[str]:
    """Disputes from an emulator disputing `VOLUME_DISPUTE_RATE` of the charges: the per-object
    path, not a load's fixed cost."""
    first, days = span_of("disputes", days)
    config = EmulatorConfig(
        seed=11, start=START, days=(first - START).days + days, per_day=per_day, api_key=KEY,
        dispute_rate=VOLUME_DISPUTE_RATE,
    )
    with start_emulator(config, separate_process=True) as emu, tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        old = export_tree(before, tmp / "before")
        objects, spent, _ = alternated(old, emu.url, "disputes", days, tmp, rounds)
        rates = {label: objects / statistics.median(cpus) for label, cpus in spent.items()}
    line = (
        f"{'disputes (1 charge in 10)':<28}{objects:>9,}{rates['before']:>14,.0f}{rates['now']:>12,.0f}"
        f"{rates['now'] / rates['before']:>9.2f}x  {'yes' if rates['now'] >= GOAL else 'NO'}{spread(spent)}"
    )
    print(line, flush=True)
    return [line]


def pinned_runs() -> list[str]:
    """One run at live limits on one core (the emulator on the other), then on both cores."""
    lines = []
    limited = FaultConfig(latency_ms=300, rate_limit=RATE_LIMIT_PRESETS["stripe-live"])
    per_day = dict.fromkeys(("charges", "customers", "prices", "subscriptions", "refunds"), 20000)
    config = EmulatorConfig(seed=3, start=START, days=6, per_day=per_day, api_key=KEY, faults=limited)
    cores = sorted(os.sched_getaffinity(0))
    with start_emulator(config, separate_process=True) as emu, tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for label, first, last, pin in (
            ("one core", "2026-10-01", "2026-10-03", True),
            ("two cores", "2026-10-04", "2026-10-06", False),
        ):
            os.sched_setaffinity(emu.pid, {cores[-1]} if pin else set(cores))
            with dagster_home(tmp, label.replace(" ", "_"), emu.url, "{}") as env, RateWatch(emu.url) as watch:
                # What the emulator takes to build its pages, on two shared cores CPU the run does not get.
                began, served = time.perf_counter(), process_stat(emu.pid)[1]
                run = materialize(env, first, last, pin_to=cores[0] if pin else None, select=TOP_LEVEL)
                tree = TreeCPU(run.pid)
                output, _ = run.communicate()
                wall, cpu = time.perf_counter() - began, tree.stop()
                served = process_stat(emu.pid)[1] - served
            loaded = rows_loaded(env) if run.returncode == 0 else 0
            span = watch.busy_span() or float("nan")
            ceiling = 80 * loaded / max(watch.total_requests, 1)  # 80 requests/s of the pages it got
            line = (
                f"{label}: exit {run.returncode}, {loaded:,} objects, {loaded / span:,.0f} objects/s while fetching "
                f"({span:.1f}s) = {100 * loaded / span / ceiling:.0f} % of the budget's ceiling "
                f"({ceiling:,.0f}/s: 80 requests/s of {loaded / max(watch.total_requests, 1):.1f} objects); "
                f"{loaded / wall:,.0f}/s over the whole command ({wall:.1f}s); "
                f"{loaded / max(cpu, 1e-9):,.0f} per CPU-second ({cpu:.0f}s); "
                f"{watch.all_busy_rate():.0f} requests/s while every list was read, {watch.rate_limited} 429s; "
                f"the emulator {served:.0f} CPU-s ({100 * served / wall:.0f} % of a core); "
                f"load average {os.getloadavg()[0]:.1f}"
            )
            if run.returncode != 0:
                line += "\n" + output[-3000:]
            print(line, flush=True)
            lines.append(line)
    return lines


def overhead_run(tree: Path, tmp: Path, label: str, url: str) -> dict[str, float]:
    """One run of the top-level lists over the emulator's first day with `tree`'s code, its
    instance configured by `tree`'s dagster.yaml; CPU seconds by kind of process."""
    with dagster_home(tmp, label, url, "{}") as env:
        shutil.copy(tree / "dagster.yaml", Path(env["DAGSTER_HOME"]) / "dagster.yaml")
        env = {**env, "PYTHONPATH": str(tree)}
        run = subprocess.Popen(
            [str(BIN / "dagster"), "asset", "materialize", "-m", "stripe_assets.definitions",
             "--select", TOP_LEVEL, "--partition", START.isoformat()],
            cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        tree_cpu = TreeCPU(run.pid, every=0.05)
        output, _ = run.communicate()
        procs = tree_cpu.stop_each()
        if run.returncode != 0:
            raise SystemExit(f"{label}: run failed\n{output[-3000:]}")
        # Step processes are forked from the run's process (their parent); the rest under them are
        # the compute-log capture's `tail` and its watcher, two of each per step.
        steps = [cpu for pid, (parent, cpu) in procs.items() if parent == run.pid]
        helpers = [cpu for pid, (parent, cpu) in procs.items() if pid != run.pid and parent != run.pid]
        return {
            "objects": rows_loaded(env), "run": procs[run.pid][1], "steps": sum(steps), "count": len(steps),
            "step median": statistics.median(steps), "helpers": sum(helpers),
            "total": sum(cpu for _, cpu in procs.values()),
        }


def overhead(before: str, per_day: int, repeat: int) -> list[str]:
    config = EmulatorConfig(seed=3, start=START, days=2, per_day=per_day, api_key=KEY)
    results: dict[str, list[dict[str, float]]] = {"before": [], "now": []}
    with start_emulator(config, separate_process=True) as emu, tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        old = export_tree(before, tmp / "before")
        for i in range(repeat):  # alternated, so a busier minute weighs on both alike
            for label, tree in (("before", old), ("now", ROOT)):
                found = overhead_run(tree, tmp, f"{label}{i}", emu.url)
                results[label].append(found)
                print(f"{label:6} run {i + 1}: " + ", ".join(f"{k} {v:,.2f}" for k, v in found.items())
                      + f"; load average {os.getloadavg()[0]:.1f}", flush=True)
    lines = [f"{'code':<8}{'objects':>9}{'run process':>13}{'steps (sum)':>13}{'a step':>8}{'helpers':>9}"
             f"{'total CPU':>11}{'objects/CPU-s':>15}   (medians of {repeat} runs, CPU seconds)"]
    for label, runs in results.items():
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        lines.append(f"{label:<8}{med['objects']:>9,.0f}{med['run']:>13.2f}{med['steps']:>13.2f}"
                     f"{med['step median']:>8.2f}{med['helpers']:>9.2f}{med['total']:>11.2f}"
                     f"{med['objects'] / med['total']:>15,.0f}")
    print("\n".join(lines), flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="zero,pinned")
    parser.add_argument("--per-day", type=int, default=10_000, help="objects per day per generated resource")
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--before", default="main", help="the revision to compare with")
    parser.add_argument("--profile", type=Path, default=None)
    parser.add_argument("--resources", default=",".join(RESOURCE_NAMES), help="the resources of the zero part")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each code in the overhead part")
    parser.add_argument("--rounds", type=int, default=1, help="alternated loads of each tree in the zero part")
    parser.add_argument(
        "--pretty", action="store_true", help="the zero part's pages indented as Stripe's API sends them (else compact)"
    )
    args = parser.parse_args()
    only = set(args.only.split(","))
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    print(f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores, "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    lines = []
    if "zero" in only:
        lines += zero_latency(
            args.before, args.per_day, args.days, args.profile, args.resources.split(","), args.pretty, args.rounds
        )
    if "pinned" in only:
        lines += pinned_runs()
    if "overhead" in only:
        lines += overhead(args.before, args.per_day, args.repeat)
    print("\n".join(["", "summary:", *lines,
                     f"load average at the end {' '.join(f'{x:.1f}' for x in os.getloadavg())}"]))


if __name__ == "__main__":
    main()
