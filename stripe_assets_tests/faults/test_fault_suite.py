"""The fault suite: what production does to a load, each ending with exactly the API's ids.

API faults (429 storms, a 500 every third request, 300 ms latency), list pages breaking the
list contract (an empty page saying `has_more`, objects outside the requested window), hostile
ids and strings, a kill -9 of the whole process group, two overlapping loads and a rollback
racing a load, a disk filling up while a large day is spilled to Parquet or swapped in. Disk
full during a write, damaged files and read-only directories are in test_warehouse_faults.py;
killed runs in test_killed_runs.py; key leaks in test_secrets.py.
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

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.client import StripeReader, StripeReadError
from stripe_assets.ingest.columns import default_columns
from stripe_assets.ingest.load import load_partitions
from stripe_assets.ingest.load_options import LoadOptions
from stripe_assets.ingest.outcomes import Window
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.warehouse import Warehouse, WarehouseError
from stripe_assets.operations.rollback import RollbackRequest, run_rollback
from stripe_assets_tests.conftest import day_window
from stripe_assets_tests.faults.mounts import fill, tiny_disk
from stripe_assets_tests.faults.servers import ScriptedApi

DAYS = ("2026-10-02", "2026-10-03", "2026-10-04")
CHARGES = get_resource("charges")
START, END = datetime(2026, 10, 2, tzinfo=UTC), datetime(2026, 10, 5, tzinfo=UTC)
DAGSTER = str(Path(sys.executable).parent / "dagster")


def load(api, path, run_id: str = "run-1", resource: str = "charges", days=DAYS):
    with StripeReader(api.api_key, api.url) as reader:
        return load_partitions(
            reader, Warehouse(path), get_resource(resource), [Window(d, *day_window(d)) for d in days],
            LoadOptions(
                columns=default_columns(get_resource(resource)),
                settings=ValidationSettings(threshold_pct=100.0),
                run_id=run_id,
            ),
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


def test_an_empty_page_saying_has_more_fails_the_load_and_keeps_the_rows(tmp_path, make_emulator):
    """Stripe answering a page with `has_more: true` and no objects is retried, then fails in one
    line naming the endpoint and the cursor: never the end of the list (a day lost its rows)."""
    path = tmp_path / "stripe.duckdb"
    load(make_emulator(per_day=250), path)
    before = table_ids(path)
    broken = make_emulator(per_day=250, empty_pages=True)
    with pytest.raises(StripeReadError) as caught:
        load(broken, path, "run-2")
    message = str(caught.value)
    assert "\n" not in message and f"{broken.url}/v1/charges answered starting_after=ch_" in message, message
    assert "has_more=true and no objects 3 times" in message, message
    assert table_ids(path) == before == sorted(broken.listable_ids("charges", START, END))


def test_objects_listed_outside_the_window_are_quarantined_and_keep_their_rows(tmp_path, make_emulator):
    """Objects whose `created` lies outside the requested range (year 9999, negative, the range's
    end) are quarantined with the reason and their raw JSON; their rows stay as they were."""
    path = tmp_path / "stripe.duckdb"
    load(make_emulator(per_day=250), path)
    with Warehouse(path).connect(read_only=True) as conn:
        before = conn.execute("SELECT id, raw FROM stripe.charges ORDER BY id").fetchall()
    report = load(make_emulator(per_day=250, outside_window_every=10), path, "run-2")
    with Warehouse(path).connect(read_only=True) as conn:
        after = conn.execute("SELECT id, raw FROM stripe.charges ORDER BY id").fetchall()
        quarantined = conn.execute(
            "SELECT id, check_name, column_name, reason, raw->>'created' FROM stripe_quarantine.charges ORDER BY id"
        ).fetchall()
    assert after == before  # nothing deleted, nothing dropped
    strays = 3 * 25  # every 10th of 250 a day
    assert len(quarantined) == strays == report.records_rejected == report.outside_window
    assert {(check, column) for _, check, column, _, _ in quarantined} == {("in_window", "created")}
    ends = (*DAYS[1:], "2026-10-05")
    windows = {f"[{d}T00:00:00+00:00, {e}T00:00:00+00:00)" for d, e in zip(DAYS, ends, strict=True)}
    for _, _, _, reason, created in quarantined:
        assert reason.startswith(f"created {created} is outside the requested window ["), reason
        assert reason.split("window ")[1] in windows, reason
    assert {created for *_, created in quarantined} >= {"253402300799", str(int(END.timestamp()))}
    assert any(int(created) < 0 for *_, created in quarantined)
    assert {i for i, *_ in quarantined} <= {i for i, _ in before}


def test_a_stray_whose_id_is_also_listed_in_its_window_lands_once_in_its_new_state(tmp_path, emulator):
    template = StripeReader(emulator.api_key, emulator.url).list_window(CHARGES, *day_window(DAYS[0]))[0]
    day_start = int(day_window(DAYS[0])[0].timestamp())
    first = [{**template, "id": f"ch_{n}", "created": day_start + 10 - i} for i, n in enumerate("abc")]
    second = [
        {**first[0], "description": "listed again"},  # ch_a in its window, in a new state ...
        {**first[0], "created": 253402300799},  # ... and listed as a stray too
        {**first[1], "created": -5, "description": "stray"},  # ch_b only as a stray: its row stays
        first[2],
    ]
    listing = [first]

    def answer(path: str, headers: dict[str, str]) -> tuple[int, dict]:
        return 200, {"object": "list", "data": listing[0], "has_more": False, "url": "/v1/charges"}

    api = ScriptedApi(answer, emulator.api_key)
    path = tmp_path / "stripe.duckdb"
    try:
        load(api, path, days=DAYS[:1])
        listing[0] = second
        report = load(api, path, "run-2", days=DAYS[:1])
    finally:
        api.stop()
    with Warehouse(path).connect(read_only=True) as conn:
        rows = conn.execute("SELECT id, description, _run_id FROM stripe.charges ORDER BY id").fetchall()
    kept = template["description"]
    assert rows == [("ch_a", "listed again", "run-2"), ("ch_b", kept, "run-1"), ("ch_c", kept, "run-2")]
    assert report.outside_window == 2


@pytest.mark.parametrize("bad", ["lone surrogate", "null"])
def test_one_unreadable_item_of_a_page_is_quarantined_alone(tmp_path, emulator, bad):
    """A lone surrogate escape (`\\ud800`, valid JSON but not Unicode) in one object, or null in
    place of an object, fails only that item, with the reason: not the page, not the load."""
    template = StripeReader(emulator.api_key, emulator.url).list_window(CHARGES, *day_window(DAYS[0]))[0]
    day_start = int(day_window(DAYS[0])[0].timestamp())
    objects: list[dict | None] = [
        {**template, "id": f"ch_readable{i}", "created": day_start + 100 - i} for i in range(3)
    ]
    objects.insert(1, {**template, "id": "ch_surrogate", "created": day_start + 50, "description": "a\ud800b"}
                   if bad == "lone surrogate" else None)

    def answer(path: str, headers: dict[str, str]) -> tuple[int, dict]:  # json.dumps escapes \ud800
        return 200, {"object": "list", "data": objects, "has_more": False, "url": "/v1/charges"}

    api = ScriptedApi(answer, emulator.api_key)
    path = tmp_path / "stripe.duckdb"
    try:
        report = load(api, path, days=DAYS[:1])
    finally:
        api.stop()
    assert table_ids(path) == ["ch_readable0", "ch_readable1", "ch_readable2"]
    assert report.records_rejected == 1
    with Warehouse(path).connect(read_only=True) as conn:
        [(record, check, column, reason, raw)] = conn.execute(
            "SELECT id, check_name, column_name, reason, raw FROM stripe_quarantine.charges"
        ).fetchall()
    if bad == "null":
        assert (record, column, reason, raw) == ("<record 1>", "<record>", "expected an object, got null", "null")
    else:
        assert (record, check, column) == ("ch_surrogate", "valid_unicode", "description")
        assert reason == "description holds a lone UTF-16 surrogate (a\\ud800b), which is not Unicode text"
        assert orjson.loads(raw)["description"] == "a\ufffdb" and orjson.loads(raw)["id"] == "ch_surrogate"


# Free space left on the disk: too little for the day's Parquet parts (about 0.9 MB), or enough
# for them but not for the swap into the DuckDB file (its log needs more than 2 MB).
DISK_LEFT = {"while staging": 300_000, "after the day was spilled": 1_500_000}


@pytest.mark.parametrize("when", list(DISK_LEFT))
def test_a_full_disk_around_a_spilled_day_leaves_no_staging_and_the_rerun_works(
    tmp_path, make_emulator, monkeypatch, when
):
    from stripe_assets.ingest import parts, routing

    emulator = make_emulator(per_day=1200)
    with tiny_disk(tmp_path / "disk", "12m") as disk:
        path = disk / "stripe.duckdb"
        load(emulator, path, days=DAYS[:1])
        before = table_ids(path)
        monkeypatch.setattr(routing, "BATCH_RECORDS", 100)  # the day in 12 parts ...
        monkeypatch.setattr(parts, "HELD_PART_BYTES", 0)  # ... each spilled to Parquet
        fill(disk, DISK_LEFT[when])
        with pytest.raises(WarehouseError) as caught:
            load(emulator, path, "run-2", days=DAYS[1:2])
        message = str(caught.value)
        holding = "staging folder" if when == "while staging" else "DuckDB file"
        assert "\n" not in message and f"the disk holding the {holding} {disk}/" in message, message
        assert "is full: free space and rerun" in message and "No space left on device" in message, message
        assert not list(disk.glob("stripe.duckdb.staging/*/*")), "the staged parts are removed"
        assert table_ids(path) == before
        (disk / "filler").unlink()
        report = load(emulator, path, "run-3", days=DAYS[1:2])
        assert report.spilled_windows == 1
        assert table_ids(path) == sorted(emulator.listable_ids("charges", START, day_window(DAYS[2])[0]))
        assert not list(disk.glob("stripe.duckdb.staging/*/*"))


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
    template = StripeReader(emulator.api_key, emulator.url).list_window(CHARGES, *day_window(DAYS[0]))[0]
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
