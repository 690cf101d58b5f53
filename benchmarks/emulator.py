"""Emulator benchmark: start-up and memory for ~1M objects, page throughput over HTTP, and the
cost of moving the clock on (changes and their events).

The emulator serves from a process of its own (as `stripe-assets emulator` does) while this
process plays the client: `requests` sessions with keep-alive, `limit=100` pages, bodies parsed
with orjson (what the project's client does). "Cold" pages are built on first request; "warm"
pages are served again from the emulator's caches.

    python benchmarks/emulator.py [--quick]
"""

from __future__ import annotations

import argparse
import platform
import threading
import time
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
import requests

from stripe_assets.catalog import RESOURCE_NAMES, get_resource
from stripe_assets_emulator import CHANGE_KINDS, EmulatorConfig, RunningEmulator, start_emulator

START = date(2026, 10, 1)
DAYS = 30
DAY = 86400


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process, in MB."""
    with open(f"/proc/{pid}/status") as file:
        status = dict(line.split(":", 1) for line in file.read().splitlines() if ":" in line)
    return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024


@dataclass
class Reading:
    pages: int = 0
    objects: int = 0


def read_pages(emu: RunningEmulator, resource: str, max_pages: int, reading: Reading, **window: int) -> None:
    """Pages through one list from its newest object, as a client does."""
    session = requests.Session()
    session.auth = (emu.api_key, "")
    params: dict[str, Any] = {"limit": 100, **get_resource(resource).list_params, **window}
    for _ in range(max_pages):
        response = session.get(emu.url + get_resource(resource).path, params=params, timeout=60)
        response.raise_for_status()
        page = orjson.loads(response.content)
        reading.pages += 1
        reading.objects += len(page["data"])
        if not page["has_more"]:
            return
        params["starting_after"] = page["data"][-1]["id"]


Task = tuple[str, int, dict]  # (resource, max pages, created window)


def timed(emu: RunningEmulator, threads: list[list[Task]]) -> tuple[Reading, float]:
    """Runs each list of tasks in a client thread of its own; returns what was read and the time."""
    readings = [Reading() for _ in threads]

    def run(tasks: list[Task], reading: Reading) -> None:
        for resource, max_pages, window in tasks:
            read_pages(emu, resource, max_pages, reading, **window)

    workers = [threading.Thread(target=run, args=(tasks, r)) for tasks, r in zip(threads, readings, strict=True)]
    began = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - began
    return Reading(sum(r.pages for r in readings), sum(r.objects for r in readings)), seconds


def rate(read: Reading, seconds: float) -> str:
    return f"{read.pages / seconds:,.0f} pages/s, {read.objects / seconds:,.0f} objects/s"


def days_window(config: EmulatorConfig, first_day: int, days: int = 1) -> dict[str, int]:
    start = config.start_timestamp + first_day * DAY
    return {"created[gte]": start, "created[lt]": start + days * DAY}


# 14 days with enough objects for 500 changes of every kind over three days.
CHANGING = {
    "charges": 2000, "refunds": 2300, "subscriptions": 1500, "customers": 200, "prices": 100, "products": 400,
    "coupons": 100, "setup_intents": 400, "transfers": 100,
}


def changes_rows() -> list[tuple[str, str]]:
    """Moving the clock three days on with 500 changes of every kind, then reading /v1/events."""
    config = EmulatorConfig(seed=1, start=START, days=14, per_day=CHANGING)
    with start_emulator(config) as emu:
        began = time.perf_counter()
        done = emu.advance(days=3, changes={**dict.fromkeys(CHANGE_KINDS, 500), "payout_paid": 3, "payout_failed": 2,
                                              "dispute_updated": 20, "dispute_closed": 20})
        seconds = time.perf_counter() - began
        changes = sum(done.changes.values())
        read, reading = timed(emu, [[("events", 10**9, {})]])
    return [
        (
            "advance 3 days, 500 changes of every kind (in-process)",
            f"{changes:,} changes, {done.events:,} events in {seconds:.2f} s = {done.events / seconds:,.0f} events/s",
        ),
        ("read every event, GET /v1/events, 1 client thread", rate(read, reading)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer pages, no full read of the 1M objects")
    args = parser.parse_args()
    pages = 60 if args.quick else 300

    config = EmulatorConfig(seed=1, start=START, days=DAYS, per_day=5000)
    print(
        f"python {platform.python_version()} on {platform.machine()}, {DAYS} days x 5,000 objects/day/resource"
    )
    rows: list[tuple[str, str]] = []

    began = time.perf_counter()
    with start_emulator(config, separate_process=True) as emu:
        startup = time.perf_counter() - began
        rss_start, _ = rss_mb(emu.pid)
        first_page = time.perf_counter()
        timed(emu, [[(r, 1, {}) for r in RESOURCE_NAMES]])
        first_pages = time.perf_counter() - first_page
        rss_first, _ = rss_mb(emu.pid)
        counted = time.perf_counter()
        total = sum(emu.count(r) for r in RESOURCE_NAMES)
        counting = time.perf_counter() - counted
        rows += [
            ("objects served", f"{total:,}"),
            ("start-up (process spawned, listening)", f"{startup:.2f} s, RSS {rss_start:.0f} MB"),
            ("first page of each of the 6 lists", f"{first_pages:.2f} s, RSS {rss_first:.0f} MB"),
            ("planning every day of every resource (truth side)", f"{counting:.2f} s"),
        ]

        # Cold pages: every thread reads days no other read touched, so nothing is cached yet.
        for threads, first_day in ((1, 23), (2, 17)):
            windows = [days_window(config, first_day - 3 * i, 3) for i in range(threads)]
            read, seconds = timed(emu, [[("charges", pages // threads, window)] for window in windows])
            rows.append((f"charges, cold, {threads} client thread(s)", rate(read, seconds)))
        for threads, day in ((1, 9), (2, 8)):
            tasks = [(r, pages // 6, days_window(config, day)) for r in RESOURCE_NAMES]
            read, seconds = timed(emu, [tasks[i::threads] for i in range(threads)])
            rows.append((f"all six lists, cold, {threads} client thread(s)", rate(read, seconds)))
        # Warm: the same charges pages again, now from the emulator's caches.
        warm = [("charges", min(pages, 60), days_window(config, 29))]
        timed(emu, [warm])
        for threads in (1, 2):
            read, seconds = timed(emu, [warm] * threads)
            rows.append((f"charges, warm, {threads} client thread(s)", rate(read, seconds)))

        if not args.quick:
            everything: list[Task] = [(r, 10**9, {}) for r in RESOURCE_NAMES]
            # Two client threads with about the same number of objects each.
            read, seconds = timed(emu, [everything[0::2], everything[1::2]])
            _, peak = rss_mb(emu.pid)
            rows.append(
                (
                    "full read of all six lists, 2 client threads",
                    f"{read.objects:,} objects in {seconds:.0f} s = {read.objects / seconds:,.0f} objects/s, "
                    f"peak RSS {peak:.0f} MB",
                )
            )
        rss_end, peak = rss_mb(emu.pid)
        rows.append(("emulator memory at the end", f"RSS {rss_end:.0f} MB, peak {peak:.0f} MB"))
    rows += changes_rows()

    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
