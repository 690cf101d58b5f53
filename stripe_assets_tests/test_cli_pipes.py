"""`stripe-assets ... | head`: a reader that goes away early ends the command quietly."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.mark.parametrize("args", [["schema"], ["schema", "--json"], ["dataflows"]])
def test_a_closed_pipe_ends_the_command_without_a_traceback(args, tmp_path):
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line is written, as after `head -1`
    done = subprocess.run(
        [sys.executable, "-m", "stripe_assets.cli", *args],
        stdout=write_end, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, timeout=120,
        env={**os.environ, "STRIPE_API_KEY": "sk_test_unused"}, cwd=tmp_path,
    )
    os.close(write_end)
    assert done.stderr == ""
    assert done.returncode == 141  # 128 + SIGPIPE, as a Unix tool ends
