"""Shared fixtures: a real emulator over HTTP and a warehouse file per test."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from stripe_assets_emulator import EmulatorConfig, FaultConfig, start_emulator

# The window the shared emulator serves: 2026-10-01 .. 2026-10-06 (6 UTC days).
EMULATOR_START = date(2026, 10, 1)
EMULATOR_DAYS = 6


# Test files go to memory when the machine has it: Dagster's SQLite storage commits (and syncs)
# every event, and DuckDB syncs its checkpoints, so on a shared disk a load spends about half its
# time waiting on fsync, which proves nothing about the code. The files are the same real files.
MEMORY_TMP = "/dev/shm"
MEMORY_TMP_MIN_FREE = 4 << 30


def pytest_configure(config: pytest.Config) -> None:
    """Temporary files (pytest's tmp_path, Dagster's, subprocesses') under /dev/shm unless TMPDIR
    is set or it lacks room; pytest's numbered folders keep parallel runs apart."""
    if os.environ.get("TMPDIR") or not os.access(MEMORY_TMP, os.W_OK):
        return
    stat = os.statvfs(MEMORY_TMP)
    if stat.f_bavail * stat.f_frsize < MEMORY_TMP_MIN_FREE:
        return
    os.environ["TMPDIR"] = MEMORY_TMP  # inherited by xdist workers and every subprocess
    tempfile.tempdir = None  # forget the folder tempfile already chose


# The modules of the longest tests, longest first (a clean `make test`'s --durations): each
# starts before anything shorter, so no worker starts a long test when the other runs out of work.
LONGEST_FIRST = (
    "connect/test_platform.py",
    "test_every_asset.py",
    "changes/test_end_to_end.py",
    "deploy/test_services.py",
    "test_cli_e2e.py",
    "operations/test_demo.py",
    "models/test_models.py",
    "operations/test_freshness.py",
    "component/test_new_project.py",
    "alerts/test_daemon.py",
    "test_children.py",
)
TESTS = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The modules of LONGEST_FIRST, in that order, then the other modules with slow tests
    (subprocesses, daemons, big datasets), then the rest. xdist gives each worker a first
    slice of this list (an eighth of it with two workers) and the rest a few tests at a time
    as they finish: the first worker starts on the longest tests, the other on the next slow
    modules, and both end on short tests and finish together. A module's tests keep their order."""
    slow_modules = {item.path for item in items if item.get_closest_marker("slow") is not None}

    def rank(item: pytest.Item) -> tuple[int, int]:
        module = item.path.relative_to(TESTS).as_posix() if item.path.is_relative_to(TESTS) else ""
        if module in LONGEST_FIRST:
            return (0, LONGEST_FIRST.index(module))
        return (1 if item.path in slow_modules else 2, 0)

    items.sort(key=rank)


# The `api:` section of a dataflows file for a test that reads an emulator with no request limit:
# paced at a test key's 20 requests/s (the product's default), an every-asset or fifty-account
# test spends most of its time waiting for its budget, which proves nothing it asserts. The
# pacing itself is tested in ingest/test_limiter.py and faults/ (emulators answering 429).
UNPACED_API = "api:\n  requests_per_second: 10000\n  endpoint_requests_per_second: 10000\n"


def day_window(day: str) -> tuple[datetime, datetime]:
    start = datetime.fromisoformat(day).replace(tzinfo=UTC)
    return start, start + timedelta(days=1)


@pytest.fixture(autouse=True)
def _fresh_dagster_state_storage():
    """Each test starts with no current Dagster state storage.

    Entering a DagsterInstance sets a context-wide "current" storage that holds the instance
    weakly; instances closed out of order (fixtures of different scopes) can leave it pointing
    at a disposed one, and the next definitions load then fails ("undefined DagsterInstance
    weakref"), depending on test order.
    """
    from dagster._core.storage.defs_state.base import set_defs_state_storage

    with set_defs_state_storage(None):
        yield


@pytest.fixture(scope="session")
def emulator():
    config = EmulatorConfig(seed=11, start=EMULATOR_START, days=EMULATOR_DAYS, per_day=30)
    with start_emulator(config) as emu:
        yield emu


@pytest.fixture
def make_emulator():
    """Start an extra emulator with its own data or faults; stopped after the test."""
    started = []

    def make(per_day: int = 30, days: int = EMULATOR_DAYS, seed: int = 11, **faults) -> object:
        config = EmulatorConfig(
            seed=seed, start=EMULATOR_START, days=days, per_day=per_day, faults=FaultConfig(**faults)
        )
        emu = start_emulator(config)
        started.append(emu)
        return emu

    yield make
    for emu in started:
        emu.stop()


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server for the session (see stripe_assets_tests/services/postgres.py)."""
    from stripe_assets_tests.services.postgres import running_postgres

    with running_postgres() as server:
        yield server


@pytest.fixture
def postgres_db(postgres, request):
    """A fresh database on the session's server, named after the test."""
    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name.lower())[:50]
    return postgres.create_database(name)


@pytest.fixture
def duckdb_path(tmp_path):
    return tmp_path / "warehouse" / "stripe.duckdb"


@pytest.fixture
def stripe_env(monkeypatch, emulator, duckdb_path):
    """The environment a user sets, pointing at the shared emulator and a fresh warehouse."""
    monkeypatch.setenv("STRIPE_API_KEY", emulator.api_key)
    monkeypatch.setenv("STRIPE_API_BASE", emulator.url)
    monkeypatch.setenv("STRIPE_ASSETS_DUCKDB_PATH", str(duckdb_path))
    return emulator


@pytest.fixture
def project(tmp_path, emulator, monkeypatch):
    """A project (dataflows file, warehouse, Dagster home) pointing at the shared emulator; the
    environment is set for in-process calls too."""
    from stripe_assets_tests.operations.harness import make_project

    made = make_project(tmp_path / "project", emulator)
    for name, value in made.env.items():
        monkeypatch.setenv(name, value)
    return made
