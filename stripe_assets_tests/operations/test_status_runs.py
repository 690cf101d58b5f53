"""`stripe-assets status` and `runs` against real loads, a real warehouse and a real instance."""

from __future__ import annotations

from datetime import UTC, datetime

from stripe_assets.cli import main
from stripe_assets_tests.conftest import day_window


def test_status_and_runs_on_an_empty_project_say_so(project, capsys, monkeypatch):
    done = project.cli("status")
    assert done.returncode == 0, done.stderr
    # each dataflow with its asset group: where to find it in the UI
    [charges] = [line.split() for line in done.stdout.splitlines() if line.startswith("stripe_charges ")]
    [prices] = [line.split() for line in done.stdout.splitlines() if line.startswith("stripe_prices ")]
    assert (charges[1], prices[1]) == ("stripe_payments", "stripe_products")
    assert done.stdout.splitlines()[0].split()[:2] == ["DATAFLOW", "GROUP"]
    assert f"note: no warehouse at {project.duckdb} yet: nothing loaded" in done.stdout
    assert "note: the Dagster instance at $DAGSTER_HOME has no runs of these assets yet" in done.stdout
    assert not project.duckdb.exists()

    monkeypatch.delenv("DAGSTER_HOME")
    assert main(["runs", "stripe_charges"]) == 0
    out = capsys.readouterr().out
    assert "note: dataflow stripe_charges has no runs yet" in out
    assert "note: DAGSTER_HOME is not set: no Dagster run history" in out


def test_status_and_runs_agree_with_what_was_loaded(project, emulator, make_emulator):
    bad = make_emulator(invalid_fraction=0.5)
    assert project.load(emulator, "charges", "2026-10-03").success
    assert not project.load(bad, "charges", "2026-10-04").success  # above the threshold
    assert project.load(emulator, "charges", "2026-10-05", "2026-10-06").success

    status = {s["dataflow"]: s for s in project.cli_json("status")["dataflows"]}

    charges = status["stripe_charges"]
    assert charges["group"] == "stripe_payments"
    loaded_days = ("2026-10-03", "2026-10-05", "2026-10-06")
    assert charges["rows"] == sum(len(emulator.listable_ids("charges", *day_window(d))) for d in loaded_days)
    # what the bad account served broken on 10-04, by its own account of it (an unknown enum value
    # is drift, kept: not strict_enums)
    broken = {i for i, record in bad.invalid_records("charges").items() if record.kind != "unknown_enum"}
    served_invalid = broken & set(bad.listable_ids("charges", *day_window("2026-10-04")))
    assert served_invalid and charges["quarantined"] == len(served_invalid)
    assert charges["last_run_status"] == "SUCCESS"
    assert charges["last_refresh_partition"] == "2026-10-06"
    assert charges["error_rate_pct"] == 0.0
    assert charges["enabled"] is True and charges["schedule"] == "every day from 2026-10-01 00:10 UTC"
    assert datetime.fromisoformat(charges["next_run"]) > datetime.now(UTC)
    prices = status["stripe_prices"]
    assert prices["last_run_status"] is None and prices["rows"] is None

    runs = project.cli_json("runs", "stripe_charges")["runs"]

    assert [(r["status"], r["partitions"]) for r in runs] == [
        ("SUCCESS", ["2026-10-05", "2026-10-06"]),
        ("FAILURE", ["2026-10-04"]),
        ("SUCCESS", ["2026-10-03"]),
    ]
    served = {day: len(emulator.listable_ids("charges", *day_window(day))) for day in loaded_days}
    assert [(r["records_loaded"], r["records_rejected"]) for r in runs] == [
        (served["2026-10-05"] + served["2026-10-06"], 0),
        (0, len(served_invalid)),  # above the threshold: nothing landed
        (served["2026-10-03"], 0),
    ]
    assert all(run["seconds"] > 0 for run in runs)
    ranged, failed, first = runs
    assert ranged["records_per_second"] > 0 and ranged["error"] is None
    assert failed["records_loaded"] == 0 and failed["records_rejected"] > 0
    assert failed["error"].startswith("charges 2026-10-04: ") and "above the 5.0% threshold" in failed["error"]

    text = project.cli("runs", "charges", "--limit", "2")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0] == "Runs of dataflow stripe_charges (asset stripe/charges), newest first:"
    assert ranged["run_id"] in lines[2] and "SUCCESS" in lines[2]
    assert failed["run_id"] in lines[3] and "FAILURE" in lines[3]
    assert lines[4].strip() == f"error: {failed['error']}"
    assert first["run_id"] not in text.stdout  # --limit 2


def test_runs_of_an_unknown_dataflow_is_a_one_line_usage_error(project, capsys):
    assert main(["runs", "stripe_payouts"]) == 2
    assert capsys.readouterr().err.strip() == (
        "stripe-assets runs: no dataflow named 'stripe_payouts' (configured: stripe_charges, stripe_prices)"
    )
