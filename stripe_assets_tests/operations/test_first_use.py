"""A brand-new DAGSTER_HOME opened by several processes at once: the instance is created once."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

REPO = Path(__file__).resolve().parents[2]


def _open_after(home: str, barrier, out) -> None:
    os.environ["DAGSTER_HOME"] = home
    barrier.wait()
    try:
        with dg.DagsterInstance.get() as instance:
            out.put(("ok", instance.get_runs_count()))
    except Exception as exc:
        out.put(("failed", f"{type(exc).__name__}: {exc}".splitlines()[0]))


@pytest.mark.slow
def test_processes_opening_a_new_home_together_all_get_a_working_instance(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    context = multiprocessing.get_context("spawn")
    count = 4
    barrier, out = context.Barrier(count), context.Queue()
    workers = [context.Process(target=_open_after, args=(str(home), barrier, out)) for _ in range(count)]
    for worker in workers:
        worker.start()
    results = [out.get(timeout=180) for _ in workers]
    for worker in workers:
        worker.join(60)
    assert results == [("ok", 0)] * count
    done = subprocess.run(
        [sys.executable, "-c", "import dagster as dg; dg.DagsterInstance.get().get_runs_count()"],
        env={**os.environ, "DAGSTER_HOME": str(home)}, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_two_runs_started_together_on_a_new_home_both_succeed_and_status_works(project):
    shutil.copy(REPO / "dagster.yaml", project.dagster_home / "dagster.yaml")
    env = {**os.environ, **project.env}

    def materialize(asset: str, day: str) -> subprocess.Popen:
        return subprocess.Popen(
            [str(Path(sys.executable).parent / "dagster"), "asset", "materialize",
             "-m", "stripe_assets.definitions", "--select", asset, "--partition", day],
            env=env, cwd=project.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )

    runs = [materialize("stripe/charges", "2026-10-02"), materialize("stripe/prices", "2026-10-03")]
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == 0, output[-3000:]

    status = project.cli_json("status")
    by_name = {s["dataflow"]: s for s in status["dataflows"]}
    assert by_name["stripe_charges"]["last_run_id"] and by_name["stripe_prices"]["last_run_id"]
    assert not status["notes"] or not any("cannot be opened" in note for note in status["notes"])
    plain = project.cli("status")
    assert plain.returncode == 0 and "Traceback" not in plain.stdout + plain.stderr


def test_status_on_an_instance_that_cannot_be_opened_is_one_note_not_a_traceback(project):
    import sqlite3

    with dg.DagsterInstance.from_config(str(project.dagster_home)) as instance:
        instance.get_runs_count()  # creates the storage
    with sqlite3.connect(project.dagster_home / "history" / "runs.db") as db:
        # What two first uses at once left behind: a second schema version stamped.
        db.execute("INSERT INTO alembic_version VALUES ('0000000000ff')")
    done = project.cli("status")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    [note] = [line for line in done.stdout.splitlines() if "cannot be opened" in line]
    assert f"the Dagster instance at {project.dagster_home} cannot be opened: " in note


def test_threads_wait_for_the_first_use_and_one_thread_may_reenter(tmp_path):
    import threading

    from stripe_assets.operations.first_use import READY_FILE, created_once

    inside: list[str] = []
    first_in = threading.Event()
    release = threading.Event()

    def first() -> None:
        with created_once(tmp_path), created_once(tmp_path):  # the storage opened within the instance
            inside.append("first")
            first_in.set()
            release.wait(30)

    def second() -> None:
        with created_once(tmp_path):
            inside.append("second")

    a = threading.Thread(target=first)
    a.start()
    assert first_in.wait(30)
    b = threading.Thread(target=second)
    b.start()
    b.join(0.5)  # gives `second` every chance to get in early; it must not
    assert inside == ["first"] and not (tmp_path / READY_FILE).exists()
    release.set()
    a.join(30)
    b.join(30)
    assert inside == ["first", "second"] and (tmp_path / READY_FILE).exists()
