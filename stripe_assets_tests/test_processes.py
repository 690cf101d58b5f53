"""The deadline the end-to-end tests wait on subprocesses with: what it reports when it passes."""

from __future__ import annotations

import os
import sys

import pytest

from stripe_assets_tests.processes import run_together, work_deadline


def test_the_deadline_grows_with_the_processes_and_their_partitions():
    assert work_deadline(processes=2, asset_partitions=10) > work_deadline(processes=1, asset_partitions=10)
    assert work_deadline(processes=1, asset_partitions=20) > work_deadline(processes=1, asset_partitions=10)


def test_finished_processes_give_their_exit_codes_and_output(tmp_path):
    done = run_together(
        [[sys.executable, "-c", "print('one')"], [sys.executable, "-c", "import sys; print('two'); sys.exit(3)"]],
        deadline_seconds=600, log_dir=tmp_path, cwd=tmp_path, env=os.environ,
    )  # fmt: skip
    assert [(d.returncode, d.output.strip()) for d in done] == [(0, "one"), (3, "two")]


def test_past_the_deadline_the_failure_names_what_was_still_running_and_stops_it(tmp_path):
    hung = [sys.executable, "-c", "import time; print('waiting on a lock', flush=True); time.sleep(600)"]
    quick = [sys.executable, "-c", "print('done')"]
    with pytest.raises(AssertionError) as failure:
        # Long enough for both to start (and the quick one to end) on a loaded machine.
        run_together([quick, hung], deadline_seconds=20, log_dir=tmp_path, cwd=tmp_path, env=os.environ)
    message = str(failure.value)
    assert message.startswith("1 of 2 processes still running after 20 s (1 finished):")
    assert "still running: " + " ".join(hung) in message
    assert "waiting on a lock" in message
