"""Dagster 1.13 marks `dagster asset materialize`, `dagster definitions validate` and `dagster dev`
superseded by `dg launch`, `dg check defs` and `dg dev`: the `dg` commands the README documents
print no warning from the repository root, and our wrappers that still run the `dagster` ones (`make
demo`) filter exactly Dagster's supersession notice and no other warning."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stripe_assets.dagster_cli import without_supersession_warnings

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "dagster_home"
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    # As a user runs `.venv/bin/dg` from a shell: no venv activated, a key set, nothing loaded yet.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "VIRTUAL_ENV", "PYTHONWARNINGS"))}
    return {
        **env, "DAGSTER_HOME": str(home), "STRIPE_API_KEY": "sk_test_emulator",
        "STRIPE_ASSETS_DUCKDB_PATH": str(tmp_path / "stripe.duckdb"),
    }  # fmt: skip


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_dg_check_defs_from_the_repository_root_prints_no_warning(tmp_path):
    done = _run([str(BIN / "dg"), "check", "defs"], _env(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    output = done.stdout + done.stderr
    assert "All definitions loaded successfully." in output
    assert "Warning" not in output and "virtual environment" not in output, output[-3000:]


@pytest.mark.slow
def test_the_dagster_commands_our_wrappers_run_print_no_supersession_warning(tmp_path):
    validate = [str(BIN / "dagster"), "definitions", "validate", "-m", "stripe_assets.definitions"]
    plain = _run(validate, _env(tmp_path / "plain"))
    assert plain.returncode == 0 and "SupersessionWarning" in plain.stderr  # what Dagster prints by itself

    quiet = _run(validate, without_supersession_warnings(_env(tmp_path / "quiet")))
    assert quiet.returncode == 0, quiet.stderr[-3000:]
    output = quiet.stdout + quiet.stderr
    assert "Validation successful" in output
    assert "SupersessionWarning" not in output and "is superseded" not in output

    # Only Dagster's notice is filtered: another FutureWarning still shows.
    other = _run(
        [sys.executable, "-c", "import warnings; warnings.warn('a future change', FutureWarning)"],
        without_supersession_warnings(_env(tmp_path / "other")),
    )
    assert "FutureWarning: a future change" in other.stderr
