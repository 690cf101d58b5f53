"""Fixtures: emulators on ephemeral ports and an HTTP client that speaks to them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
import requests

from stripe_assets_emulator import (
    CHANGE_KINDS,
    EmulatorConfig,
    FaultConfig,
    RunningEmulator,
    start_emulator,
)
from stripe_assets_emulator.generators import GENERATED as RESOURCE_NAMES

START = date(2026, 10, 1)
DAYS = 4


class Api:
    """GETs against one emulator with its key, returning the response."""

    def __init__(self, emu: RunningEmulator):
        self.emu = emu
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {emu.api_key}"

    def get(self, path: str, /, **params: Any) -> requests.Response:
        return self.session.get(self.emu.url + path, params=params, timeout=10)

    def ok(self, path: str, /, **params: Any) -> dict:
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def ids(self, path: str, /, **params: Any) -> list[str]:
        return [o["id"] for o in self.ok(path, **params)["data"]]

    def error(self, path: str, expected_status: int, /, **params: Any) -> dict:
        response = self.get(path, **params)
        assert response.status_code == expected_status, response.text
        return response.json()["error"]


@pytest.fixture(scope="module")
def emu() -> Iterator[RunningEmulator]:
    """A small account: 4 days, 40 objects of each resource a day."""
    with start_emulator(EmulatorConfig(seed=3, start=START, days=DAYS, per_day=40)) as running:
        yield running


@pytest.fixture(scope="module")
def api(emu: RunningEmulator) -> Api:
    return Api(emu)


MOVED = EmulatorConfig(seed=11, start=START, days=7, per_day=200)
# 20 changes of every kind; only the last day's payouts (six currencies) are still in transit,
# and about one charge in a hundred is disputed.
EVERY_KIND = {**dict.fromkeys(CHANGE_KINDS, 20), "payout_paid": 3, "payout_failed": 2,
              "dispute_updated": 3, "dispute_closed": 3}


@pytest.fixture(scope="module")
def moved() -> Iterator[RunningEmulator]:
    """A week of data, then three days with 20 changes of every kind."""
    with start_emulator(MOVED) as running:
        running.advance(days=3, changes=EVERY_KIND)
        yield running


@pytest.fixture(scope="module")
def before_moving() -> dict[str, dict]:
    """Every object of `moved` as it was before its clock moved on, by id."""
    with start_emulator(MOVED) as running:
        return {o["id"]: o for r in RESOURCE_NAMES for o in running.objects(r)}


@pytest.fixture(scope="module")
def moved_api(moved: RunningEmulator) -> Api:
    return Api(moved)


@pytest.fixture
def start_another() -> Iterator[Callable[..., RunningEmulator]]:
    """Starts emulators with other settings, stopped after the test."""
    started: list[RunningEmulator] = []

    def start(faults: FaultConfig | None = None, **settings: Any) -> RunningEmulator:
        settings = {"seed": 3, "start": START, "days": DAYS, "per_day": 40, **settings}
        running = start_emulator(EmulatorConfig(faults=faults or FaultConfig(), **settings))
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()
