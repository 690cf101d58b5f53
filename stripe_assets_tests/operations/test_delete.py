"""`stripe-assets delete`: disable a dataflow; with --drop-data remove exactly its data."""

from __future__ import annotations

import json

import dagster as dg

from stripe_assets.cli import main
from stripe_assets_tests.operations.harness import DATAFLOWS

CHARGES = dg.AssetKey(["stripe", "charges"])
PRICES = dg.AssetKey(["stripe", "prices"])


def tables(project) -> set[str]:
    return {f"{s}.{t}" for s, t in project.query("SELECT table_schema, table_name FROM information_schema.tables")}


def materializations(project, key: dg.AssetKey) -> int:
    with project.instance() as instance:
        return len(instance.fetch_materializations(key, limit=100).records)


def deletions(project, key) -> list[str]:
    """What the asset's history says about deletes, oldest first."""
    with project.instance() as instance:
        records = instance.fetch_observations(key, limit=100, ascending=True).records
    return [r.asset_observation.description for r in records if "deleted" in r.asset_observation.metadata]


def test_delete_with_drop_data_removes_exactly_that_dataflows_data(project, emulator, capsys):
    assert project.load(emulator, "charges", "2026-10-03", "2026-10-04").success
    assert project.load(emulator, "prices", "2026-10-03").success
    assert project.load(emulator, "prices", "2026-10-03").success  # a second version in history
    prices = project.rows("prices")
    prices_history = project.query("SELECT * FROM stripe_history.prices ORDER BY ALL")
    prices_loads = project.query("SELECT * FROM stripe_meta.loads WHERE resource = 'prices' ORDER BY ALL")
    assert prices_history and materializations(project, CHARGES) == 2

    done = project.cli("delete", "stripe_charges", "--drop-data", "--yes")

    assert done.returncode == 0, done.stderr
    assert "  - drop stripe.charges (" in done.stdout
    assert "  - wipe the Dagster history of asset stripe/charges" in done.stdout
    assert done.stdout.strip().splitlines()[-1].startswith("Done: dataflow stripe_charges disabled in ")
    # The file: one line changed, its comment kept in place.
    assert project.dataflows.read_text() == DATAFLOWS.replace(
        "    enabled: true    # turned off", "    enabled: false   # turned off"
    )
    # The warehouse: charges gone from every schema, prices untouched row for row.
    assert not {t for t in tables(project) if t.split(".")[1].startswith("charges")}
    assert project.rows("prices") == prices
    assert project.query("SELECT * FROM stripe_history.prices ORDER BY ALL") == prices_history
    assert project.query("SELECT * FROM stripe_meta.loads ORDER BY ALL") == prices_loads
    # Dagster: the charges asset's history is wiped, the prices asset's is not.
    assert materializations(project, CHARGES) == 0
    assert materializations(project, PRICES) == 2
    assert deletions(project, CHARGES) == [
        "Dataflow stripe_charges disabled; its data and history were dropped (stripe-assets delete)"
    ]

    capsys.readouterr()
    assert main(["status", "--json"]) == 0
    status = {s["dataflow"]: s for s in json.loads(capsys.readouterr().out)["dataflows"]}
    assert status["stripe_charges"]["enabled"] is False and status["stripe_charges"]["next_run"] is None
    assert status["stripe_charges"]["rows"] is None and status["stripe_prices"]["rows"] == len(prices[0])


def test_delete_without_drop_data_only_disables_the_dataflow(project, emulator, capsys):
    assert project.load(emulator, "prices", "2026-10-03").success
    prices = project.rows("prices")

    assert main(["delete", "prices", "--yes"]) == 0  # the resource name works too

    out = capsys.readouterr().out
    assert "keep its data" in out
    assert project.rows("prices") == prices and materializations(project, PRICES) == 1
    assert deletions(project, PRICES) == ["Dataflow stripe_prices disabled; its data was kept (stripe-assets delete)"]
    assert project.dataflows.read_text() == DATAFLOWS.replace(
        "    resource: prices\n", "    resource: prices\n    enabled: false\n"
    )
    assert main(["delete", "prices", "--yes"]) == 0
    assert "was already disabled" in capsys.readouterr().out


def test_delete_asks_first_and_refuses_without_a_terminal(project, emulator):
    assert project.load(emulator, "prices", "2026-10-03").success
    prices = project.rows("prices")

    done = project.cli("delete", "stripe_prices", "--drop-data")

    assert done.returncode == 2
    assert done.stderr.strip() == (
        "stripe-assets delete: refusing to delete dataflow stripe_prices without confirmation: "
        "pass --yes (no terminal to ask on)"
    )
    assert "drop stripe.prices (" in done.stdout  # what would happen was shown
    assert project.dataflows.read_text() == DATAFLOWS
    assert project.rows("prices") == prices and materializations(project, PRICES) == 1
    assert deletions(project, PRICES) == []  # nothing happened


def test_unknown_dataflow_is_a_one_line_usage_error(project, capsys):
    assert main(["delete", "stripe_payouts", "--drop-data", "--yes"]) == 2
    assert capsys.readouterr().err.strip() == (
        "stripe-assets delete: no dataflow named 'stripe_payouts' (configured: stripe_charges, stripe_prices)"
    )
    assert project.dataflows.read_text() == DATAFLOWS


def test_the_data_of_a_removed_dataflow_is_named_and_reachable_by_drop_data(project, emulator, capsys):
    assert project.load(emulator, "prices", "2026-10-03").success
    assert project.load(emulator, "charges", "2026-10-03").success
    charges = project.rows("charges")
    project.dataflows.write_text(DATAFLOWS.split("  - name: stripe_prices")[0])  # prices removed from the file
    without_prices = project.dataflows.read_text()
    assert "stripe_prices" not in without_prices and "stripe_charges" in without_prices
    capsys.readouterr()

    assert main(["delete", "stripe_prices", "--yes"]) == 2
    assert capsys.readouterr().err.strip() == (
        "stripe-assets delete: no dataflow named 'stripe_prices' (configured: stripe_charges); the dataflow of "
        f"prices was removed but its data is still in {project.duckdb}: "
        "`stripe-assets delete prices --drop-data` drops it"
    )
    assert materializations(project, PRICES) == 1

    assert main(["delete", "prices", "--drop-data", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "  - drop stripe.prices (" in out and out.strip().splitlines()[-1].startswith("Done: dropped stripe.prices")
    assert not {t for t in tables(project) if t.split(".")[1].startswith("prices")}
    assert project.rows("charges") == charges and project.dataflows.read_text() == without_prices
    assert materializations(project, PRICES) == 0
    # Nothing left: the name is unknown again.
    assert main(["delete", "prices", "--drop-data", "--yes"]) == 2
    assert "no dataflow named 'prices'" in capsys.readouterr().err
