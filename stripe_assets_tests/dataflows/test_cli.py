"""`stripe-assets dataflows`: the review of the shipped file, and --validate."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from stripe_assets.catalog import RESOURCE_NAMES
from stripe_assets.cli import main

SHIPPED = Path(__file__).resolve().parents[2] / "dataflows.yaml"


def test_review_of_the_shipped_file(capsys):
    assert main(["dataflows", "--file", str(SHIPPED), "--now", "2026-11-23T09:00:00Z"]) == 0
    out = capsys.readouterr().out
    # One dataflow per declared resource.
    assert out.startswith(f"{len(RESOURCE_NAMES)} dataflows from {SHIPPED}, reviewed at 2026-11-23 09:00 UTC\n")
    for resource in RESOURCE_NAMES:
        assert f"\nstripe_{resource} (enabled: schedule starts RUNNING)\n" in out
    charges = out.split("\nstripe_charges ")[1].split("\n\n")[0]
    assert "schedule     Every day from 2025-01-01 00:10 UTC; backfill on from 2025-01-01" in charges
    assert "next runs    2026-11-24 00:10 UTC, 2026-11-25 00:10 UTC, 2026-11-26 00:10 UTC" in charges
    assert "partitions   daily UTC windows 2025-01-01 … 2026-11-23 (current), 692 partitions" in charges
    assert (
        "validation   a partition fails above 5% invalid records; partial ingestion on; diagnostics on; "
        "strict enums off"
        in charges
    )
    assert "alerts       start, success, failure → log" in charges
    assert "mapping      + card_funding ← payment_method_details.card.funding (VARCHAR)" in charges
    assert "WARNING" not in out


def test_review_of_custom_dataflows(tmp_path, capsys):
    path = tmp_path / "flows.yaml"
    path.write_text(
        """
dataflows:
  - name: busy_charges
    resource: charges
    frequency: minute
    interval: 45
    start_time: 2024-06-01T00:05:00Z
    history_start: 2024-06-01T00:00:00Z
    mapping: {rename: {status: charge_status}, drop: [metadata]}
  - name: prices_every_3_days
    resource: prices
    frequency: day
    interval: 3
    start_time: 2026-01-01T02:00:00Z
    backfill: false
    enabled: false
    alerts: {send: [failure], channels: [log]}
  - name: customers_once
    resource: customers
    frequency: once
    start_time: 2026-12-01T00:00:00Z
"""
    )
    assert main(["dataflows", "--file", str(path), "--now", "2026-11-23T09:00:00Z"]) == 0
    out = capsys.readouterr().out
    busy, prices, once = out.split("\n\n")[1:]
    assert "next runs    2026-11-23 09:05 UTC, 2026-11-23 09:50 UTC, 2026-11-23 10:35 UTC" in busy
    assert "~ status → charge_status (status, VARCHAR)" in busy and "- metadata" in busy
    assert "WARNING      86,917 partitions: the Dagster UI slows down above 25,000" in busy
    assert prices.startswith("prices_every_3_days (disabled: schedule starts STOPPED)")
    assert "Every 3 days from 2026-01-01 02:00 UTC; backfill off (data from 2026-01-01 02:00 UTC on)" in prices
    assert "next runs    2026-11-24 02:00 UTC, 2026-11-27 02:00 UTC, 2026-11-30 02:00 UTC" in prices
    assert "backfill     off: nothing before 2026-01-01 02:00 UTC is loaded (first partition 2026-01-01)" in prices
    assert "alerts       failure → log" in prices
    assert "next runs    2026-12-01 00:00 UTC\n" in once
    assert "partitions   daily UTC windows 2025-01-01 … 2026-11-23 (current), 692 partitions" in once


def _validate(path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "STRIPE_ASSETS_DATAFLOWS"}
    script = Path(sys.executable).with_name("stripe-assets")
    command = [str(script), "dataflows", "--validate", "--file", str(path)]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)


def test_validate_exits_non_zero_with_the_message(tmp_path):
    bad = tmp_path / "dataflows.yaml"
    bad.write_text(
        "dataflows:\n  - name: stripe_charges\n    resource: charges\n    frequency: minute\n    interval: 10\n"
    )
    failed = _validate(bad)
    assert failed.returncode == 1
    assert failed.stderr == (
        f"stripe-assets dataflows: {bad}: dataflow 'stripe_charges', field 'interval': "
        "10 is below the minimum of 15 for frequency 'minute'\n"
    )
    ok = _validate(SHIPPED)
    assert (ok.returncode, ok.stdout) == (0, f"{SHIPPED}: OK ({len(RESOURCE_NAMES)} dataflows)\n")


def test_validate_refuses_a_mapping_type_that_cannot_hold_the_field(tmp_path):
    bad = tmp_path / "dataflows.yaml"
    bad.write_text(
        "dataflows:\n  - name: stripe_charges\n    resource: charges\n"
        "    mapping: {add: {note_number: {path: description, type: BIGINT}}}\n"
    )
    failed = _validate(bad)
    assert failed.returncode == 1
    assert failed.stderr == (
        f"stripe-assets dataflows: {bad}: dataflow 'stripe_charges', field 'mapping': add: column 'note_number': "
        "type BIGINT cannot hold 'description', a string in Stripe's schema (allowed: VARCHAR, JSON)\n"
    )
