"""`stripe-assets preview`: the newest objects as the rows they would become, writing nothing."""

from __future__ import annotations

from stripe_assets.catalog import RESOURCE_NAMES, get_resource
from stripe_assets.cli import main
from stripe_assets.dataflows.config import load_dataflows
from stripe_assets.ingest.client import StripeReader
from stripe_assets.ingest.columns import default_columns
from stripe_assets.ingest.load import load_partitions
from stripe_assets.ingest.load_options import LoadOptions
from stripe_assets.ingest.outcomes import Window
from stripe_assets.ingest.validation.policy import ValidationSettings
from stripe_assets.ingest.warehouse import Warehouse
from stripe_assets.operations.preview import build_preview, fetch_newest, render_preview
from stripe_assets_tests.conftest import day_window
from stripe_assets_tests.operations.harness import make_project


def test_preview_shows_the_newest_objects_as_mapped_columns_and_writes_nothing(project, emulator):
    preview = project.cli_json("preview", "charges", "--limit", "7")

    newest = emulator.listable_ids("charges")[:7]
    assert [row["id"] for row in preview["rows"]] == newest
    assert preview["dataflow"] == "stripe_charges"
    columns = {c["name"]: c for c in preview["columns"]}
    # The dataflow's extra column is there, typed from Stripe's schema, after the defaults.
    assert list(columns)[-1] == "card_funding"
    assert columns["card_funding"] == {
        "name": "card_funding", "type": "VARCHAR", "path": "payment_method_details.card.funding",
    }
    assert columns["created"]["type"] == "TIMESTAMPTZ" and columns["amount"]["type"] == "BIGINT"
    truth = {o["id"]: o for o in emulator.objects("charges")}
    for row in preview["rows"]:
        assert row["amount"] == truth[row["id"]]["amount"]
        assert row["card_funding"] == truth[row["id"]]["payment_method_details"]["card"]["funding"]
    assert preview["invalid"] == [] and preview["drift"]["unknown_fields"] == {}
    assert not project.duckdb.parent.exists(), "preview must not create or touch the warehouse"

    text = project.cli("preview", "charges", "--limit", "2")
    assert text.returncode == 0, text.stderr
    assert "card_funding" in text.stdout and "VARCHAR" in text.stdout and newest[0] in text.stdout
    assert "nothing was written" in text.stdout.splitlines()[0]
    assert not project.duckdb.parent.exists()


def test_preview_values_are_exactly_what_a_load_writes(emulator, tmp_path, monkeypatch):
    project = make_project(tmp_path / "p", emulator)
    flow = load_dataflows(project.dataflows).for_resource("charges")
    records = fetch_newest(StripeReader(emulator.api_key, emulator.url), "charges", 10)
    preview = build_preview(
        "charges", records, flow.columns(), flow.validation, dataflow=flow.name, api_base=emulator.url
    )

    newest_day = "2026-10-06"  # the emulator's last day holds its ten newest charges
    load_partitions(
        StripeReader(emulator.api_key, emulator.url), Warehouse(project.duckdb), get_resource("charges"),
        [Window(newest_day, *day_window(newest_day))],
        LoadOptions(columns=flow.columns(), settings=flow.validation, run_id="run-1"),
    )
    names = [c.name for c in flow.columns()]
    loaded = {
        row[0]: dict(zip(names, row, strict=True))
        for row in project.query(f"SELECT {', '.join(names)} FROM stripe.charges")
    }
    assert len(preview.rows) == 10
    for row in preview.rows:
        assert row == loaded[row["id"]]


def test_preview_lists_records_validation_would_quarantine_and_schema_drift(make_emulator, tmp_path):
    emu = make_emulator(invalid_fraction=0.3, invalid_kinds="wrong_type,unknown_enum")
    project = make_project(tmp_path / "p", emu)

    preview = project.cli_json("preview", "charges", "--limit", "30")

    fetched = emu.listable_ids("charges")[:30]
    broken = {i: r for i, r in emu.invalid_records("charges").items() if i in fetched}
    wrong_type = {i for i, r in broken.items() if r.kind == "wrong_type"}
    unknown_enum = [i for i, r in broken.items() if r.kind == "unknown_enum"]
    assert wrong_type and unknown_enum, "the emulator serves both kinds among the newest 30"
    assert {f["id"] for f in preview["invalid"]} == wrong_type
    assert all(f["reason"] for f in preview["invalid"])
    # Unknown values of an open enum are drift: reported, and the records still load.
    assert preview["drift"]["unknown_enum_values"] == {"status": {"on_hold": len(unknown_enum)}}
    assert [row["id"] for row in preview["rows"]] == [i for i in fetched if i not in wrong_type]
    assert "would fail" in preview["verdict"]  # far above the 5 % threshold

    text = project.cli("preview", "charges", "--limit", "30").stdout
    assert f"Would be quarantined ({len(wrong_type)} records):" in text
    assert "unknown values of status: on_hold" in text


def test_unknown_resource_and_bad_limit_are_one_line_usage_errors(project, capsys):
    assert main(["preview", "tax_codes"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"stripe-assets preview: unknown Stripe resource 'tax_codes' (declared: {', '.join(RESOURCE_NAMES)}); "
        "to add it, declare it in stripe_assets/catalog/tax_codes.py"
    )
    for limit in ("0", "101", "ten"):
        try:
            main(["preview", "charges", "--limit", limit])
        except SystemExit as exc:
            assert exc.code == 2
        else:
            raise AssertionError(f"--limit {limit} was accepted")


def test_rows_are_a_table_when_they_fit_and_one_block_per_record_otherwise(emulator):
    records = fetch_newest(StripeReader(emulator.api_key, emulator.url), "customers", 3)
    preview = build_preview(
        "customers", records, default_columns(get_resource("customers")), ValidationSettings(), dataflow=None,
        api_base=emulator.url,
    )

    wide = render_preview(preview, width=1000).splitlines()
    narrow = render_preview(preview, width=100).splitlines()

    assert "Columns of stripe.customers (default columns: no dataflow loads it):" in wide
    header = next(line for line in wide if line.startswith("  id ") and " | " in line)
    assert [cell.strip() for cell in header.split("|")] == [c.name for c in default_columns(get_resource("customers"))]
    assert all(record["id"] in "\n".join(wide) for record in records)
    assert [line for line in narrow if line.startswith("  -[ record ")] == [
        f"  -[ record {n} ]" + "-" * (len("address_country") - 8) for n in (1, 2, 3)
    ]
    assert max(len(line) for line in narrow if line.startswith("  id ")) < 100


def test_preview_reads_with_the_api_section_of_the_dataflows_file(make_emulator, tmp_path):
    # Pages take 1.5 s here: the dataflows file's timeout (0.5 s, no retries) must give up on
    # them as a load would, where the default timeout would wait and show the rows.
    slow = make_emulator(latency_ms=1500)
    project = make_project(tmp_path, slow)

    patient = project.cli("preview", "charges", "--limit", "3")
    assert patient.returncode == 0, patient.stderr

    project.dataflows.write_text(
        project.dataflows.read_text() + "api:\n  timeout_seconds: 0.5\n  network_retries: 0\n"
    )
    hasty = project.cli("preview", "charges", "--limit", "3")
    assert hasty.returncode != 0
    error = hasty.stderr.strip().splitlines()
    assert len(error) == 1 and "timed out" in error[0].lower(), hasty.stderr
