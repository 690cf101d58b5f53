"""What the reading commands print: `summary` (text and --json), `dataflows --json`, and a
resource name one letter off."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from stripe_assets_tests.conftest import day_window


def test_summary_shows_the_partitions_never_loaded_between_the_first_and_the_last(project, emulator):
    assert project.load(emulator, "charges", "2026-10-01").success
    assert project.load(emulator, "charges", "2026-10-04").success

    data = project.cli_json("summary")

    [charges] = [t for t in data["tables"] if t["resource"] == "charges"]
    expected = sum(len(emulator.listable_ids("charges", *day_window(d))) for d in ("2026-10-01", "2026-10-04"))
    assert (charges["rows"], charges["partitions_with_rows"], charges["partitions_spanned"]) == (expected, 2, 4)
    assert (charges["partitions_loaded"], charges["partitions_rejected"]) == (2, 0)
    assert charges["group"] == "stripe_payments"
    text = project.cli("summary")
    assert text.returncode == 0, text.stderr
    [line] = [x for x in text.stdout.splitlines() if x.startswith("stripe.charges")]
    assert f" {expected} " in line and " 2 of 4 " in line
    assert line.split()[1] == "stripe_payments"
    assert "gaps were never loaded" in text.stdout


def test_summary_json_of_an_empty_warehouse_says_so(project):
    done = project.cli("summary", "--json")
    assert done.returncode == 1
    assert json.loads(done.stdout) == {"warehouse": str(project.duckdb), "tables": []}


def test_dataflows_json_carries_what_the_review_says(project):
    data = project.cli_json("dataflows")

    flows = {d["name"]: d for d in data["dataflows"]}
    assert set(flows) == {"stripe_charges", "stripe_prices"}
    charges = flows["stripe_charges"]
    assert charges["resource"] == "charges" and charges["enabled"] is True
    assert (charges["group"], flows["stripe_prices"]["group"]) == ("stripe_payments", "stripe_products")
    assert charges["partitions"]["first"] == "2026-10-01" and charges["partitions"]["frequency"] == "day"
    assert {"name": "card_funding", "path": "payment_method_details.card.funding", "type": "VARCHAR"} in charges[
        "columns"
    ]
    assert charges["validation"]["threshold_pct"] == 5.0
    text = project.cli("dataflows").stdout
    assert charges["schedule"] in text and charges["dagster_schedule"] in text
    assert "→ asset stripe/charges in group stripe_payments, table stripe.charges" in text


def test_a_resource_name_one_letter_off_is_answered_with_the_right_one(project):
    for command in (("schema", "charge"), ("preview", "invoice"), ("rollback", "charge", "--yes")):
        done = project.cli(*command)
        assert done.returncode == 2, (command, done.stderr)
        [line] = done.stderr.splitlines()
        assert "did you mean 'charges'?" in line or "did you mean 'invoices'?" in line
        assert "declare it" not in line


def test_the_readmes_query_example_runs_on_a_loaded_warehouse(project, emulator):
    """The README's way to query the warehouse file, run as written from a project root."""
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = text.split("```sh\n.venv/bin/python - <<'SQL'", 1)[1].split("\nSQL\n", 1)[0]
    script = block.split("\n", 1)[1]
    assert project.load(emulator, "charges", "2026-10-02").success
    (project.root / "data").mkdir()
    (project.root / "data" / "stripe.duckdb").symlink_to(project.duckdb)
    done = subprocess.run(
        [sys.executable, "-"], input=script, cwd=project.root, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    statuses = {row[0] for row in project.query("SELECT status FROM stripe.charges")}
    assert statuses and all(status in done.stdout for status in statuses)
