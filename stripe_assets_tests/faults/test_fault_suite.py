"""The fault suite: what production does to a load, each ending with exactly the API's ids.

API faults (429 storms, a 500 every third request, 300 ms latency), hostile ids and strings, a
kill -9 of the whole process group, two overlapping loads and a rollback racing a load. Disk
full, damaged files and read-only directories are in test_warehouse_faults.py; killed runs in
test_killed_runs.py; key leaks in test_secrets.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import orjson
import pytest

from stripe_assets.ingest.client import StripeReader
from stripe_assets.ingest.columns import default_columns
from stripe_assets.ingest.load import Window, load_partitions
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets.operations.rollback import RollbackRequest, run_rollback
from stripe_assets_tests.conftest import day_window
from stripe_assets_tests.faults.servers import ScriptedApi

DAYS = ("2026-10-02", "2026-10-03", "2026-10-04")
START, END = datetime(2026, 10, 2, tzinfo=UTC), datetime(2026, 10, 5, tzinfo=UTC)
DAGSTER = str(Path(sys.executable).parent / "dagster")


def load(api, path, run_id: str = "run-1", resource: str = "charges", days=DAYS):
    with StripeReader(api.api_key, api.url) as reader:
        return load_partitions(
            reader, Warehouse(path), resource, [Window(d, *day_window(d)) for d in days],
            columns=default_columns(resource), settings=ValidationSettings(threshold_pct=100.0), run_id=run_id,
        )


def table_ids(path, resource: str = "charges") -> list[str]:
    with Warehouse(path).connect(read_only=True) as conn:
        return [r[0] for r in conn.execute(f"SELECT id FROM stripe.{resource} ORDER BY id").fetchall()]


@pytest.mark.slow
@pytest.mark.parametrize(
    "faults",
    [{"rate_limit": 3}, {"error_every": 3}, {"latency_ms": 300}],
    ids=["429 storm", "500 every 3rd request", "300 ms latency"],
)
def test_api_faults_end_with_exactly_the_apis_ids(tmp_path, make_emulator, faults):
    emulator = make_emulator(per_day=250, **faults)
    path = tmp_path / "stripe.duckdb"
    report = load(emulator, path)
    assert table_ids(path) == sorted(emulator.listable_ids("charges", START, END))
    if "rate_limit" in faults:
        assert report.stats.rate_limited > 0  # the storm happened
    if "error_every" in faults:
        assert report.stats.server_errors > 0


HOSTILE = [
    "ch_'; DROP TABLE stripe.charges; --",
    'ch_"quoted"\\back',
    "ch_\u202eeman\u202c",  # right-to-left override
    "ch_emoji_\U0001f4b3",
    "ch_tab\tnewline\n",
    "ch_%s_{0}_${HOME}",
    "ch_nul\x00byte",
]


@pytest.mark.slow
def test_hostile_ids_and_strings_land_or_are_quarantined_byte_for_byte(tmp_path, emulator):
    """Hostile ids are quarantined with their exact text; hostile strings in valid objects land
    exactly; a very long id lands."""
    template = StripeReader(emulator.api_key, emulator.url).list_window("charges", *day_window(DAYS[0]))[0]
    day_start = int(day_window(DAYS[0])[0].timestamp())
    carriers = [f"ch_hostile{i}" for i in range(len(HOSTILE))] + ["ch_" + "x" * 4000]
    pairs = [*zip(HOSTILE, HOSTILE, strict=True), *zip(carriers, [*HOSTILE, "long"], strict=True)]
    objects = [
        {**template, "id": object_id, "created": day_start + i, "description": text, "metadata": {text[:40]: text}}
        for i, (object_id, text) in enumerate(pairs)
    ]
    objects.sort(key=lambda o: -o["created"])

    def answer(path: str, headers: dict[str, str]) -> tuple[int, dict]:
        return 200, {"object": "list", "data": objects, "has_more": False, "url": "/v1/charges"}

    api = ScriptedApi(answer, emulator.api_key)
    try:
        path = tmp_path / "stripe.duckdb"
        load(api, path, days=DAYS[:1])
    finally:
        api.stop()
    assert table_ids(path) == sorted(carriers)
    with Warehouse(path).connect(read_only=True) as conn:
        stored = dict(conn.execute("SELECT id, raw FROM stripe.charges").fetchall())
        quarantined = conn.execute("SELECT id, check_name FROM stripe_quarantine.charges ORDER BY id").fetchall()
    assert quarantined == [(hostile, "id_format") for hostile in sorted(HOSTILE)]
    for obj in objects:
        if obj["id"] in stored:
            raw = orjson.loads(stored[obj["id"]])
            assert (raw["description"], raw["metadata"]) == (obj["description"], obj["metadata"])


@pytest.mark.slow
def test_two_overlapping_loads_leave_each_id_once(tmp_path, make_emulator):
    emulator = make_emulator(per_day=250, latency_ms=100)
    path = tmp_path / "stripe.duckdb"
    outcomes: dict[str, object] = {}

    def run(run_id: str) -> None:
        try:
            outcomes[run_id] = load(emulator, path, run_id)
        except Exception as exc:  # reported below: both runs succeed
            outcomes[run_id] = exc

    threads = [threading.Thread(target=run, args=(f"run-{i}",)) for i in (1, 2)]
    for thread in threads:
        thread.start()
        time.sleep(0.2)
    for thread in threads:
        thread.join(120)
    # The later committer may find the other run's load, as new, landed: it sets its fetch aside.
    assert not any(isinstance(o, Exception) for o in outcomes.values()), outcomes
    assert table_ids(path) == sorted(emulator.listable_ids("charges", START, END))
    with Warehouse(path).connect(read_only=True) as conn:
        per_partition = conn.execute(
            "SELECT _partition, count(DISTINCT _run_id) FROM stripe.charges GROUP BY 1"
        ).fetchall()
    assert all(runs == 1 for _, runs in per_partition)


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.0, 0.5, 1.5], ids=["at the start", "mid-fetch", "near the end"])
def test_rollback_racing_a_load_leaves_the_ids_exact(tmp_path, make_emulator, delay):
    """Whichever commits first, the rollback undoes exactly one load (the newest at its time) and
    every load holds the same objects: the ids end exact."""
    emulator = make_emulator(per_day=250, latency_ms=50)
    path = tmp_path / "stripe.duckdb"
    load(emulator, path, "run-base")
    load(emulator, path, "run-second")
    racing = threading.Thread(target=load, args=(emulator, path, "run-racing"))
    racing.start()
    time.sleep(delay)
    result = run_rollback(Warehouse(path), RollbackRequest("charges", steps=1))
    racing.join(120)
    assert result is not None and result.plan.run_ids in (["run-second"], ["run-racing"])
    assert table_ids(path) == sorted(emulator.listable_ids("charges", START, END))


@pytest.mark.slow
def test_kill_9_of_the_process_group_then_a_rerun_ends_exact(project, make_emulator):
    emulator = make_emulator(per_day=400, latency_ms=400)

    def materialize(**kwargs) -> subprocess.Popen:
        return subprocess.Popen(
            [DAGSTER, "asset", "materialize", "-m", "stripe_assets.definitions",
             "--select", "key:stripe/charges", "--partition-range", f"{DAYS[0]}...{DAYS[-1]}"],
            env={**os.environ, **project.env, "STRIPE_API_BASE": emulator.url},
            cwd=project.root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **kwargs,
        )

    killed = materialize(start_new_session=True)
    deadline = time.monotonic() + 120
    while emulator.request_count < 4 and time.monotonic() < deadline:  # mid-fetch, maybe mid-write
        time.sleep(0.1)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait(30)

    rerun = materialize()
    assert rerun.wait(300) == 0, rerun.stderr.read()[-2000:]
    assert table_ids(project.duckdb) == sorted(emulator.listable_ids("charges", START, END))
    with project.instance() as instance:
        newest = instance.get_runs(limit=1)[0]
        assert newest.status == dg.DagsterRunStatus.SUCCESS
