"""Reading at Stripe's rate limit, side by side against the emulator in one command.

The emulator serves from its own process with Stripe's page latency (300 ms) and Stripe's live
limits as token buckets (100 requests/s for the account, 25/s per endpoint); the key is a live
key, so the loads use their defaults (80 % of the account's 100/s, 25/s per endpoint).

    baseline  one sequential cursor (requests + orjson), the way a plain paginator reads
    a         charges alone, 200,000 objects, through `load_partitions`
    b         every resource in one `dagster asset materialize` run, at the key's default budget
              and again at the whole account's 100/s
    c         two such runs at once (other days), with the emulator's view of the request rate
    d         runs failed by 429s, over b and c
    e         zero latency, no limits: the whole path (fetch, validate, Arrow, DuckDB) against a
              raw JSON fetch of the same emulator
    f         one day of 1,000,000 charges, loaded by a process of its own: its peak RSS

    python benchmarks/rate_limit.py [--only baseline,a,b,c,e,f] [--quick]
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson
import requests

from stripe_assets.catalog import RESOURCE_NAMES, get_resource
from stripe_assets.ingest.client import StripeReader
from stripe_assets.ingest.columns import default_columns
from stripe_assets.ingest.limiter import Limits
from stripe_assets.ingest.load import load_partitions
from stripe_assets.ingest.load_options import LoadOptions
from stripe_assets.ingest.outcomes import Window
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets_emulator import EmulatorConfig, FaultConfig, start_emulator
from stripe_assets_emulator.config import RATE_LIMIT_PRESETS

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
START = date(2026, 10, 1)
KEY = "sk_live_benchmarkEmulatorKey0001"
UNLIMITED = Limits(account=1e6, endpoint=1e6)


def windows(first: date, days: int) -> list[Window]:
    out = []
    for i in range(days):
        d = first + timedelta(days=i)
        start = datetime(d.year, d.month, d.day, tzinfo=UTC)
        out.append(Window(f"{d:%Y-%m-%d}", start, start + timedelta(days=1)))
    return out


class RateWatch:
    """Samples the emulator's request and 429 counters, to see the rate it was asked for."""

    def __init__(self, url: str, every: float = 0.25):
        self.url, self.every = url, every
        self.samples: list[tuple[float, int, int, dict[str, int]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        session = requests.Session()
        while not self._stop.is_set():
            health = session.get(self.url + "/_emulator/health", timeout=10).json()
            self.samples.append(
                (time.monotonic(), health["requests"], health["rate_limited"], health["requests_by_endpoint"])
            )
            self._stop.wait(self.every)

    def __enter__(self) -> RateWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, window: float = 2.0) -> tuple[float, float]:
        """Highest account and per-endpoint request rates over any `window` seconds."""
        account = endpoint = 0.0
        for i, (t0, n0, _, by0) in enumerate(self.samples):
            for t1, n1, _, by1 in self.samples[i + 1 :]:
                if t1 - t0 >= window:
                    account = max(account, (n1 - n0) / (t1 - t0))
                    for name, count in by1.items():
                        endpoint = max(endpoint, (count - by0.get(name, 0)) / (t1 - t0))
                    break
        return account, endpoint

    @property
    def total_requests(self) -> int:
        return self.samples[-1][1] - self.samples[0][1] if self.samples else 0

    @property
    def rate_limited(self) -> int:
        return self.samples[-1][2] - self.samples[0][2] if self.samples else 0

    def _moving(self) -> list[float]:
        """The sample times at which the emulator had served requests since the sample before."""
        return [t for (_, m, _, _), (t, n, _, _) in itertools.pairwise(self.samples) if n != m]

    def endpoints(self) -> dict[str, tuple[int, float]]:
        """Per endpoint: requests served, and seconds from the first request of any endpoint to its last."""
        moving = self._moving()
        if not moving:
            return {}
        first, last_by = moving[0] - self.every, {}
        for (_, _, _, before), (t, _, _, after) in itertools.pairwise(self.samples):
            for name, count in after.items():
                if count != before.get(name, 0):
                    last_by[name] = t - first
        total = self.samples[-1][3]
        return {name: (total[name] - self.samples[0][3].get(name, 0), last_by[name]) for name in last_by}

    def all_busy_rate(self) -> float:
        """Account requests/s while every list read (not the few requests of /v1/events) was under way."""
        spans = {name: span for name, span in self.endpoints().items() if name != "/v1/events"}
        if not spans:
            return 0.0
        moving = self._moving()
        start, end = moving[0] - self.every, moving[0] - self.every + min(t for _, t in spans.values())
        inside = [(t, n) for t, n, _, _ in self.samples if start <= t <= end]
        if len(inside) < 2 or inside[-1][0] <= inside[0][0]:
            return 0.0
        return (inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0])

    def busy_span(self) -> float:
        """Seconds from the first to the last sample in which requests were served."""
        moving = self._moving()
        return (moving[-1] - moving[0] + self.every) if moving else 0.0


def sequential(url: str, seconds: float) -> float:
    """Objects/s of one cursor over charges, newest first, for `seconds`."""
    session = requests.Session()
    session.auth = (KEY, "")
    params: dict[str, str | int] = {"limit": 100}
    objects, began = 0, time.perf_counter()
    while time.perf_counter() - began < seconds:
        answer = session.get(url + "/v1/charges", params=params, timeout=60)
        if answer.status_code == 429:
            time.sleep(1)
            continue
        page = orjson.loads(answer.content)
        objects += len(page["data"])
        if not page["has_more"]:
            break
        params["starting_after"] = page["data"][-1]["id"]
    return objects / (time.perf_counter() - began)


def load(url: str, resource: str, days: list[Window], path: Path, limits: Limits | None = None, log=None):
    reader = StripeReader(KEY, url, limits=limits)
    return load_partitions(
        reader, Warehouse(path), get_resource(resource), days,
        LoadOptions(
            columns=default_columns(get_resource(resource)),
            settings=ValidationSettings(),
            run_id="bench",
            log=log,
            progress_seconds=15,
        ),
    )


@contextmanager
def dagster_home(tmp: Path, name: str, url: str, api: str) -> Iterator[dict[str, str]]:
    home = tmp / name
    home.mkdir()
    flows = home / "dataflows.yaml"
    flows.write_text(f"api: {api}\n")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "STRIPE_API_KEY": KEY,
        "STRIPE_API_BASE": url,
        "STRIPE_ASSETS_DUCKDB_PATH": str(home / "stripe.duckdb"),
        "STRIPE_ASSETS_DATAFLOWS": str(flows),
    }
    yield env


def materialize(
    env: dict[str, str], first: str, last: str, pin_to: int | None = None, select: str = "key:stripe/*"
) -> subprocess.Popen:
    """`pin_to`: run the command (and every process it starts) on that core only."""
    pinned = ["taskset", "-c", str(pin_to)] if pin_to is not None else []
    return subprocess.Popen(
        [*pinned, str(BIN / "dagster"), "asset", "materialize", "-m", "stripe_assets.definitions",
         "--select", select, "--partition-range", f"{first}...{last}"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def rows_loaded(env: dict[str, str]) -> int:
    total = 0
    with Warehouse(env["STRIPE_ASSETS_DUCKDB_PATH"]).connect(read_only=True) as conn:
        tables = {row[0] for row in conn.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'stripe'"
        ).fetchall()}
        for resource in RESOURCE_NAMES:
            if resource not in tables:  # not selected by the run
                continue
            found = conn.execute(f"SELECT count(*) FROM stripe.{resource}").fetchone()
            total += found[0] if found else 0
    return total


def process_stat(pid: int) -> tuple[int, float]:
    """A process's parent and the CPU seconds it (every thread) has used so far, from /proc."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rfind(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class TreeCPU:
    """CPU seconds used by a process and every process under it, read from /proc while it runs.

    `getrusage(RUSAGE_CHILDREN)` misses processes whose parent was not waited for (the step
    processes a fork server starts), so the tree is sampled; a process's last 0.1 s can be missed.
    """

    def __init__(self, root: int, every: float = 0.1):
        self.root, self.every = root, every
        self._seen: dict[int, tuple[int, float]] = {}  # pid: (parent when first seen, CPU seconds)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for name in os.listdir("/proc"):
                if not name.isdigit():
                    continue
                try:
                    started_by, cpu = process_stat(int(name))
                except OSError:
                    continue
                pid = int(name)
                parent = self._seen.get(pid, (started_by, 0.0))[0]
                self._seen[pid] = (parent, cpu)
            self._stop.wait(self.every)

    def stop(self) -> float:
        return sum(cpu for _, cpu in self.stop_each().values())

    def stop_each(self) -> dict[int, tuple[int, float]]:
        """Stop; each process of the tree: pid -> (its parent, its CPU seconds)."""
        self._stop.set()
        self._thread.join()
        tree, grew = {self.root}, True
        while grew:
            below = {pid for pid, (parent, _) in self._seen.items() if parent in tree}
            grew = not below <= tree
            tree |= below
        return {pid: self._seen[pid] for pid in tree if pid in self._seen}


def whole_run(tmp: Path, label: str, url: str, api: str) -> tuple[int, str]:
    """Every resource over three days in one `dagster asset materialize` run: (runs failed by
    429s, the figure)."""
    with dagster_home(tmp, label.replace(" ", "_").replace("/", ""), url, api) as env, RateWatch(url) as watch:
        began = time.perf_counter()
        run = materialize(env, "2026-10-01", "2026-10-03")
        tree = TreeCPU(run.pid)
        output, _ = run.communicate()
        wall, cpu = time.perf_counter() - began, tree.stop()
    loaded = rows_loaded(env) if run.returncode == 0 else 0
    span = watch.busy_span() or float("nan")
    account, endpoint = watch.peak()
    figure = (
        f"({label}) every resource, one `dagster asset materialize` run, api: {api}: exit {run.returncode}, "
        f"{loaded:,} objects; {loaded / span:,.0f} objects/s while fetching ({span:.1f}s), "
        f"{loaded / wall:,.0f} objects/s over the whole command ({wall:.1f}s incl. Dagster start-up), "
        f"{loaded / max(cpu, 1e-9):,.0f} per CPU-second of the command and its step processes ({cpu:.0f}s); "
        "emulator saw "
        f"peak {account:.0f} requests/s (account), {endpoint:.0f}/s (one endpoint), {watch.rate_limited} 429s\n"
        "    per endpoint (requests, seconds from the first request to its last): "
        + ", ".join(f"{name} {n:,} in {seconds:.0f}s" for name, (n, seconds) in sorted(watch.endpoints().items()))
        + f"; while every list was read: {watch.all_busy_rate():.0f} requests/s"
    )
    if run.returncode != 0:
        figure += "\n" + output[-3000:]
    return int(run.returncode != 0 and "429" in output), figure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="baseline,a,b,c,e,f")
    parser.add_argument("--quick", action="store_true", help="a tenth of the volumes")
    args = parser.parse_args()
    only = set(args.only.split(","))
    scale = 10 if args.quick else 1
    print(f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    figures: dict[str, str] = {}

    limited = FaultConfig(latency_ms=300, rate_limit=RATE_LIMIT_PRESETS["stripe-live"])
    per_day = dict.fromkeys(("charges", "customers", "prices", "subscriptions", "refunds"), 20000 // scale)
    config = EmulatorConfig(seed=3, start=START, days=10, per_day=per_day, api_key=KEY, faults=limited)
    with start_emulator(config, separate_process=True) as emu, tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if "baseline" in only:
            rate = sequential(emu.url, 20)
            figures["baseline"] = f"sequential paginator, charges: {rate:,.0f} objects/s"
            print(figures["baseline"], flush=True)
        if "a" in only:
            cpu = time.process_time()
            report = load(emu.url, "charges", windows(START, 10), tmp / "a.duckdb", log=print)
            cpu = time.process_time() - cpu
            rate = report.records_fetched / report.seconds
            figures["a"] = (
                f"(a) charges alone: {report.records_fetched:,} objects in {report.seconds:.1f}s = "
                f"{rate:,.0f} objects/s, {report.records_fetched / cpu:,.0f} per CPU-second "
                f"({report.stats.requests} requests, "
                f"{report.stats.requests / report.seconds:.1f}/s, {report.stats.rate_limited} 429s, "
                f"{report.slices} slices)"
            )
            print(figures["a"], flush=True)
        failed_by_429 = 0
        if "b" in only:
            # At the key's default budget (80 % of the account), then at the whole account's 100/s
            # (`api: {requests_per_second: 100}`), for an account with no other traffic.
            for label, api in (("b", "{}"), ("b at 100/s", "{requests_per_second: 100}")):
                failed, figures[label] = whole_run(tmp, label, emu.url, api)
                failed_by_429 += failed
                print(figures[label], flush=True)
        if "c" in only:
            with dagster_home(tmp, "c1", emu.url, "{}") as env1, dagster_home(tmp, "c2", emu.url, "{}") as env2:
                with RateWatch(emu.url) as watch:
                    began = time.perf_counter()
                    runs = [
                        materialize(env1, "2026-10-04", "2026-10-06"),
                        materialize(env2, "2026-10-07", "2026-10-09"),
                    ]
                    outputs = [r.communicate()[0] for r in runs]
                    wall = time.perf_counter() - began
                codes = [r.returncode for r in runs]
                loaded = sum(rows_loaded(e) for e, c in zip((env1, env2), codes, strict=True) if c == 0)
            account, endpoint = watch.peak()
            failed_by_429 += sum(c != 0 and "429" in o for c, o in zip(codes, outputs, strict=True))
            figures["c"] = (
                f"(c) two runs at once: exits {codes}, {loaded:,} objects in {wall:.1f}s; emulator saw peak "
                f"{account:.0f} requests/s (account limit 100), {endpoint:.0f}/s on one endpoint (limit 25), "
                f"{watch.rate_limited} 429s"
            )
            print(figures["c"], flush=True)
            for code, output in zip(codes, outputs, strict=True):
                if code != 0:
                    print(output[-3000:])
        if {"b", "c"} & only:
            figures["d"] = f"(d) runs failed by 429s: {failed_by_429}"
            print(figures["d"], flush=True)

    if "e" in only:
        fast = EmulatorConfig(seed=5, start=START, days=1, per_day={"charges": 50_000 // scale}, api_key=KEY)
        with start_emulator(fast, separate_process=True) as emu, tempfile.TemporaryDirectory() as fast_tmp:
            sequential(emu.url, 0.5)  # warm the connection and the emulator's day plan
            began, raw_cpu = time.perf_counter(), time.process_time()
            raw_rate = sequential(emu.url, 3600)
            raw, raw_cpu = time.perf_counter() - began, time.process_time() - raw_cpu
            cpu = time.process_time()
            report = load(emu.url, "charges", windows(START, 1), Path(fast_tmp) / "e.duckdb", limits=UNLIMITED)
            cpu = time.process_time() - cpu
            figures["e"] = (
                f"(e) zero latency, {report.records_fetched:,} charges: raw JSON fetch {raw:.2f}s "
                f"({raw_rate:,.0f}/s), whole path {report.seconds:.2f}s "
                f"({report.records_fetched / report.seconds:,.0f}/s): "
                f"{report.seconds / raw:.2f}x (fetch {report.stats.seconds:.2f}s, validation "
                f"{report.validate_seconds:.2f}s, Arrow + DuckDB {report.write_seconds:.2f}s; CPU {cpu:.2f}s = "
                f"{report.records_fetched / cpu:,.0f} per CPU-second, raw fetch {raw_cpu:.2f}s of CPU)"
            )
            print(figures["e"], flush=True)

    if "f" in only:
        count = 1_000_000 // scale
        big = EmulatorConfig(seed=7, start=START, days=1, per_day={"charges": count}, api_key=KEY)
        with start_emulator(big, separate_process=True) as emu, tempfile.TemporaryDirectory() as big_tmp:
            # The process's own high-water mark (VmHWM), not getrusage's ru_maxrss: Linux carries
            # ru_maxrss over exec, so a child of this benchmark (which loaded (a) and (e) itself)
            # would report this process's peak whenever it is higher than its own.
            code = (
                "import os\n"
                "from pathlib import Path\n"
                "from benchmarks.emulator import rss_mb\n"
                "from benchmarks.rate_limit import load, windows, START, UNLIMITED\n"
                f"report = load({emu.url!r}, 'charges', windows(START, 1), Path({big_tmp!r}) / 'f.duckdb',"
                " limits=UNLIMITED, log=print)\n"
                "peak = rss_mb(os.getpid())[1]\n"
                "print(f'RESULT {report.records_loaded} {report.seconds:.1f} {peak:.0f} {report.staged_windows} "
                "{report.spilled_windows}')\n"
            )
            done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
            result = [line for line in done.stdout.splitlines() if line.startswith("RESULT")]
            if not result:
                print(done.stdout[-2000:], done.stderr[-3000:])
                raise SystemExit("(f) failed")
            landed, seconds, peak, staged, spilled = result[0].split()[1:]
            figures["f"] = (
                f"(f) one day of {count:,} charges: {int(landed):,} loaded in {float(seconds):.0f}s, "
                f"peak RSS of the loading process {peak} MB (validated in parts: {staged} window, "
                f"parts spilled to Parquet: {spilled})"
            )
            print(figures["f"], flush=True)

    print("\n".join(["", "summary:", *figures.values()]))


if __name__ == "__main__":
    main()
