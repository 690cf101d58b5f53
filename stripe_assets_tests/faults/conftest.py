from __future__ import annotations

import pytest

from stripe_assets_tests.operations.harness import make_project


@pytest.fixture
def project(tmp_path, emulator, monkeypatch):
    """A project pointing at the shared emulator; the environment is set for in-process calls too."""
    made = make_project(tmp_path / "project", emulator)
    for name, value in made.env.items():
        monkeypatch.setenv(name, value)
    return made


# The alert tests' real webhook receivers, Dagster instance and alert log.
from stripe_assets_tests.alerts.conftest import alert_log, instance, make_webhook  # noqa: E402,F401
