"""`stripe-assets emulator` from a shell: help, start-up line, serving, clean stop."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from stripe_assets.cli import main

BIN = Path(sys.executable).parent / "stripe-assets"


def test_help_explains_every_option(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # no line wrapping inside option names
    with pytest.raises(SystemExit) as done:
        main(["emulator", "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    for option in (
        "--port",
        "--host",
        "--seed",
        "--start",
        "--days",
        "--per-day",
        "--api-key",
        "--invalid-fraction",
        "--invalid-kinds",
        "--rate-limit",
        "--error-every",
        "--latency-ms",
        "--latency-jitter-ms",
        "--advance-days",
        "--changes",
        "--old-api-version-share",
    ):
        assert option in text
    assert "stripe-test" in text and "stripe-live" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--per-day", "charges=ten"], "per-day entry 'charges=ten' is not resource=number"),
        (["--rate-limit", "fast"], "rate limit 'fast' is neither a preset"),
        (["--start", "yesterday"], "argument --start"),
        (["--changes", "charge_exploded=3"], "unknown kind of change 'charge_exploded'"),
    ],
)
def test_bad_options_are_usage_errors_naming_the_value(capsys, args, message):
    with pytest.raises(SystemExit) as done:
        main(["emulator", *args])
    assert done.value.code == 2
    assert message in capsys.readouterr().err


def test_bad_settings_are_one_line_errors(capsys):
    assert main(["emulator", "--per-day", "tax_codes=5", "--port", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "unknown Stripe resource 'tax_codes'" in err
    assert err.rstrip().endswith("to add it, declare it in stripe_assets/catalog/tax_codes.py")


def test_serves_until_interrupted_then_exits_cleanly():
    process = subprocess.Popen(
        [
            str(BIN),
            "emulator",
            "--port",
            "0",
            "--start",
            "2026-10-01",
            "--days",
            "2",
            "--per-day",
            "5",
            "--api-key",
            "sk_test_cli_key",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert url, line
        response = requests.get(url.group() + "/v1/charges", auth=("sk_test_cli_key", ""), timeout=10)
        assert response.status_code == 200 and len(response.json()["data"]) == 10
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        assert "Traceback" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_starts_with_the_clock_moved_on():
    process = subprocess.Popen(
        [
            *(str(BIN), "emulator", "--port", "0", "--days", "3", "--per-day", "40"),
            *("--advance-days", "2", "--changes", "customer_deleted=3,price_archived=2"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = re.search(r"http://127\.0\.0\.1:\d+", process.stdout.readline())
        assert url
        assert process.stdout.readline().startswith("Clock moved 2 days past the window: 5 changes")
        events = requests.get(url.group() + "/v1/events", auth=("sk_test_emulator", ""), timeout=10).json()
        types = sorted(e["type"] for e in events["data"] if e["type"] != "customer.subscription.deleted")
        assert types == ["customer.deleted"] * 3 + ["price.updated"] * 2
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_without_the_emulator_package_the_command_says_how_to_install_it(capsys, monkeypatch):
    for name in [m for m in sys.modules if m.startswith("stripe_assets_emulator.")]:
        monkeypatch.delitem(sys.modules, name)  # restored after the test
    monkeypatch.setitem(sys.modules, "stripe_assets_emulator", None)  # as if not installed
    assert main(["emulator", "--port", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("stripe-assets emulator: the emulator is a separate package: pip install")
    assert "\n" not in err
