"""Shared fixtures: a real emulator over HTTP and a warehouse file per test."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, date, datetime, timedelta

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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Modules with slow tests (subprocesses, daemons, big datasets) run first, so that the two
    workers end on short tests and finish together instead of one starting a long test last.
    A module's tests stay together, so its module-scoped fixtures are still made once."""
    slow_modules = {item.path for item in items if item.get_closest_marker("slow") is not None}
    items.sort(key=lambda item: item.path not in slow_modules)


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
