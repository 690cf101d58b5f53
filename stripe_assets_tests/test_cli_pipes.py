"""`stripe-assets ... | head`: a reader that goes away early ends the command quietly."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


# Every command the README lists that prints without an API or a confirmation to ask.
@pytest.mark.parametrize(
    "args",
    [
        ["schema"], ["schema", "--json"], ["dataflows"], ["dataflows", "--json"], ["status"], ["status", "--json"],
        ["runs", "charges"], ["runs", "charges", "--json"], ["summary"], ["summary", "--json"],
    ],
)
def test_a_closed_pipe_ends_the_command_without_a_traceback(args, tmp_path):
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")  # an instance, as the project has
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line is written, as after `head -1`
    done = subprocess.run(
        [sys.executable, "-m", "stripe_assets.cli", *args],
        stdout=write_end, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, timeout=120,
        env={**os.environ, "STRIPE_API_KEY": "sk_test_unused", "DAGSTER_HOME": str(tmp_path),
             "STRIPE_ASSETS_DUCKDB_PATH": str(tmp_path / "stripe.duckdb")},
        cwd=tmp_path,
    )
    os.close(write_end)
    assert done.stderr == ""
    assert done.returncode == 141  # 128 + SIGPIPE, as a Unix tool ends
